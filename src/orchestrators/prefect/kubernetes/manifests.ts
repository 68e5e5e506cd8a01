import { stringify } from 'yaml';
import type { PrefectDeployKwargs } from '../kwargs.js';
import { kubernetesName } from '../../../kubernetes/names.js';
import { podResources } from '../../../kubernetes/pod-resources.js';

/** A Kubernetes object as kubectl takes it; tests validate these against the Kubernetes schemas. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Label on every object the tool creates, with the deployment it belongs to. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'lolpop-deploy' } as const;
export const DEPLOYMENT_LABEL = 'lolpop-deploy/deployment';
/** The Secret key for a self-hosted server's basic auth (lolpop has no kwarg for it). */
export const AUTH_STRING_KEY = 'prefect-api-auth-string';

/** The deploy kwargs the manifests honour (names from lolpop's PrefectOrchestrator docs). */
export type KubernetesKwargs = Pick<
  PrefectDeployKwargs,
  | 'namespace'
  | 'num_replicas'
  | 'image_pull_policy'
  | 'service_account'
  | 'secret_name'
  | 'prefect_api_key'
  | 'prefect_api_url'
  | 'worker_image'
  | 'resources'
>;

/** Label values: at most 63 of `[A-Za-z0-9._-]`, starting and ending alphanumeric. */
function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

export interface SecretInput {
  kwargs: KubernetesKwargs;
  /** The Prefect API URL as pods reach it. */
  apiUrl: string;
  /** Optional: a self-hosted server has no key (LOLPOP bug 7 was a KeyError here). */
  apiKey?: string;
  authString?: string;
}

/**
 * The Secret the flow and worker read PREFECT_API_URL/KEY from, under the key names
 * of `prefect_api_url` and `prefect_api_key`. It goes to kubectl on stdin only.
 */
export function secretManifest(input: SecretInput): Manifest {
  const { kwargs } = input;
  const data: Record<string, string> = { [kwargs.prefect_api_url]: input.apiUrl };
  if (input.apiKey) data[kwargs.prefect_api_key] = input.apiKey;
  if (input.authString) data[AUTH_STRING_KEY] = input.authString;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: kubernetesName(kwargs.secret_name, 'secret_name'), namespace: kwargs.namespace, labels: { ...MANAGED_BY } },
    type: 'Opaque',
    stringData: data,
  };
}

/** PREFECT_API_* from the Secret; the key and auth string are optional references. */
function prefectEnv(kwargs: KubernetesKwargs): Array<Record<string, unknown>> {
  const secret = kubernetesName(kwargs.secret_name, 'secret_name');
  const ref = (name: string, key: string, optional: boolean) => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } },
  });
  return [
    ref('PREFECT_API_URL', kwargs.prefect_api_url, false),
    ref('PREFECT_API_KEY', kwargs.prefect_api_key, true),
    ref('PREFECT_API_AUTH_STRING', AUTH_STRING_KEY, true),
  ];
}

/**
 * A `kubernetes.io/dockerconfigjson` Secret with the registry credentials package pushed
 * with, so the node can pull the image from that (private) registry.
 */
export function pullSecretManifest(input: { name: string; namespace: string; registry: string; username: string; password: string }): Manifest {
  const auth = Buffer.from(`${input.username}:${input.password}`).toString('base64');
  const config = { auths: { [input.registry]: { username: input.username, password: input.password, auth } } };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: input.name, namespace: input.namespace, labels: { ...MANAGED_BY } },
    type: 'kubernetes.io/dockerconfigjson',
    stringData: { '.dockerconfigjson': JSON.stringify(config) },
  };
}

/** The pull Secret's name for a deployment. */
export function pullSecretName(deploymentName: string): string {
  return kubernetesName(`${kubernetesName(deploymentName, 'deployment name')}-registry`, 'pull secret name');
}

interface PodDeploymentInput {
  name: string;
  namespace: string;
  replicas: number;
  labels: Record<string, string>;
  kwargs: KubernetesKwargs;
  container: Record<string, unknown>;
  pullSecret?: string;
}

function appsDeployment(input: PodDeploymentInput): Manifest {
  const selector = { [DEPLOYMENT_LABEL]: input.labels[DEPLOYMENT_LABEL]!, 'app.kubernetes.io/name': input.name };
  const labels = { ...MANAGED_BY, ...input.labels, 'app.kubernetes.io/name': input.name };
  const resources = podResources(input.kwargs.resources);
  const container = {
    ...input.container,
    ...(resources.container.resources ? { resources: resources.container.resources } : {}),
    env: [...((input.container.env as object[] | undefined) ?? []), ...(resources.container.env ?? [])],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: input.kwargs.service_account,
          ...resources.pod,
          ...(input.pullSecret ? { imagePullSecrets: [{ name: input.pullSecret }] } : {}),
          containers: [container],
        },
      },
    },
  };
}

export interface FlowDeploymentInput {
  deploymentName: string;
  /** The Prefect flow name, lolpop's `flow:` label. */
  flowName: string;
  image: string;
  kwargs: KubernetesKwargs;
  /** An image pull Secret to reference (the package step's registry credentials). */
  pullSecret?: string;
}

/**
 * lolpop's flow Deployment (container `flow-container`, label `flow`), whose image
 * CMD serves the flow; in `namespace` (LOLPOP bug 1 wrote `namespace={namespace}`).
 */
export function flowDeploymentManifest(input: FlowDeploymentInput): Manifest {
  const { kwargs } = input;
  return appsDeployment({
    name: kubernetesName(input.deploymentName, 'deployment name'),
    namespace: kwargs.namespace,
    replicas: kwargs.num_replicas,
    kwargs,
    pullSecret: input.pullSecret,
    labels: { [DEPLOYMENT_LABEL]: labelValue(input.deploymentName), flow: labelValue(input.flowName) },
    container: {
      name: 'flow-container',
      image: input.image,
      imagePullPolicy: kwargs.image_pull_policy,
      env: prefectEnv(kwargs),
    },
  });
}

/** The worker's Deployment name, `{deployment_name}-{work_pool}` as lolpop names it. */
export function workerName(deploymentName: string, workPool: string): string {
  return kubernetesName(`${deploymentName}-${workPool}`, 'worker name');
}

export interface WorkerDeploymentInput {
  deploymentName: string;
  workPool: string;
  kwargs: KubernetesKwargs;
}

/**
 * A Prefect kubernetes worker for the pool, honouring image_pull_policy (LOLPOP
 * bug 2 ignored it). Its service account needs RBAC to create Jobs in the namespace.
 */
export function workerDeploymentManifest(input: WorkerDeploymentInput): Manifest {
  const { kwargs } = input;
  return appsDeployment({
    name: workerName(input.deploymentName, input.workPool),
    namespace: kwargs.namespace,
    // lolpop's worker manifest takes num_replicas too: more workers poll the same pool.
    replicas: kwargs.num_replicas,
    kwargs,
    labels: { [DEPLOYMENT_LABEL]: labelValue(input.deploymentName), 'prefect.io/work-pool': labelValue(input.workPool) },
    container: {
      name: 'prefect-worker',
      image: kwargs.worker_image,
      imagePullPolicy: kwargs.image_pull_policy,
      command: ['prefect', 'worker', 'start', '--type', 'kubernetes', '--pool', input.workPool],
      env: prefectEnv(kwargs),
    },
  });
}

/** Multi-document YAML, as `kubectl apply -f -` reads it. */
export function toYaml(manifests: readonly object[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n');
}
