import { stringify } from 'yaml';
import type { PrefectDeployKwargs } from '../kwargs.js';
import { ConfigError } from '../../../errors.js';

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
  'namespace' | 'num_replicas' | 'image_pull_policy' | 'service_account' | 'secret_name' | 'prefect_api_key' | 'prefect_api_url' | 'worker_image'
>;

/**
 * A DNS-1123 name (what Deployment and Secret names must be): lower-case, `-` for
 * anything else, at most 63 characters. Deployment names like `Quickstart_PR-3`
 * become `quickstart-pr-3`.
 */
export function kubernetesName(name: string, what: string): string {
  const out = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (!out) throw new ConfigError(`${what} '${name}' gives no valid Kubernetes name (lower-case letters, digits and '-')`);
  return out;
}

/** Label values: at most 63 of `[A-Za-z0-9._-]`, starting and ending alphanumeric. */
function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

export interface SecretInput {
  kwargs: KubernetesKwargs;
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

interface PodDeploymentInput {
  name: string;
  namespace: string;
  replicas: number;
  labels: Record<string, string>;
  serviceAccount: string;
  container: Record<string, unknown>;
}

function appsDeployment(input: PodDeploymentInput): Manifest {
  const selector = { [DEPLOYMENT_LABEL]: input.labels[DEPLOYMENT_LABEL]!, 'app.kubernetes.io/name': input.name };
  const labels = { ...MANAGED_BY, ...input.labels, 'app.kubernetes.io/name': input.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: { serviceAccountName: input.serviceAccount, containers: [input.container] },
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
    serviceAccount: kwargs.service_account,
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
    serviceAccount: kwargs.service_account,
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
