import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubernetesName } from '../../src/kubernetes/names.js';
import { PrefectDeployKwargs as DeployKwargs } from '../../src/orchestrators/prefect/kwargs.js';
import {
  flowDeploymentManifest,
  pullSecretManifest,
  secretManifest,
  toYaml,
  workerDeploymentManifest,
  type Manifest,
} from '../../src/orchestrators/prefect/kubernetes/manifests.js';

const defaults = DeployKwargs.parse({});
const custom = DeployKwargs.parse({
  namespace: 'ml-prod',
  num_replicas: 3,
  image_pull_policy: 'IfNotPresent',
  service_account: 'flows',
  secret_name: 'prefect-conn',
  prefect_api_key: 'api-key',
  prefect_api_url: 'api-url',
  worker_image: 'registry.example/prefect-worker:3',
});

/** Validates against the Kubernetes OpenAPI schemas (kubernetes-models throws on a mismatch). */
function validate(manifest: Manifest): void {
  const model = manifest.kind === 'Secret' ? new Secret(manifest as never) : new Deployment(manifest as never);
  expect(() => model.validate()).not.toThrow();
}

/** What kubectl would read: the YAML text parsed back. */
function roundTrip(manifests: Manifest[]): unknown[] {
  const docs = parseAllDocuments(toYaml(manifests));
  for (const doc of docs) expect(doc.errors).toEqual([]);
  return docs.map((d) => d.toJS());
}

describe('kubernetes manifests', () => {
  it('the flow Deployment honours every kwarg and is valid', () => {
    const m = flowDeploymentManifest({ deploymentName: 'quickstart', flowName: 'prefect-entrypoint', image: 'ghcr.io/acme/qs:abc', kwargs: custom });
    validate(m);
    expect(m.metadata).toMatchObject({ name: 'quickstart', namespace: 'ml-prod' });
    expect(m).toMatchObject({
      spec: {
        replicas: 3,
        selector: { matchLabels: { 'lolpop-deploy/deployment': 'quickstart' } },
        template: {
          metadata: { labels: { flow: 'prefect-entrypoint', 'lolpop-deploy/deployment': 'quickstart' } },
          spec: {
            serviceAccountName: 'flows',
            containers: [
              {
                name: 'flow-container',
                image: 'ghcr.io/acme/qs:abc',
                imagePullPolicy: 'IfNotPresent',
                env: [
                  { name: 'PREFECT_API_URL', valueFrom: { secretKeyRef: { name: 'prefect-conn', key: 'api-url' } } },
                  { name: 'PREFECT_API_KEY', valueFrom: { secretKeyRef: { name: 'prefect-conn', key: 'api-key', optional: true } } },
                  { name: 'PREFECT_API_AUTH_STRING', valueFrom: { secretKeyRef: { name: 'prefect-conn', key: 'prefect-api-auth-string', optional: true } } },
                ],
              },
            ],
          },
        },
      },
    });
    // The selector matches the pod template's labels (the API server refuses otherwise).
    const spec = m.spec as { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } };
    expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
    expect(roundTrip([m])).toEqual([m]);
  });

  it('lolpop bug 1: the namespace is a real metadata field in valid YAML, not `namespace={namespace}`', () => {
    const m = flowDeploymentManifest({ deploymentName: 'qs', flowName: 'f', image: 'i:1', kwargs: custom });
    const yaml = toYaml([m]);
    expect(yaml).not.toMatch(/namespace=/);
    const [parsed] = roundTrip([m]) as Manifest[];
    expect(parsed!.metadata.namespace).toBe('ml-prod');
    // ... and with the defaults, lolpop's namespace `lolpop`.
    expect(flowDeploymentManifest({ deploymentName: 'qs', flowName: 'f', image: 'i:1', kwargs: defaults }).metadata.namespace).toBe('lolpop');
  });

  it('lolpop bug 2: the worker Deployment honours image_pull_policy (and is named {name}-{work_pool})', () => {
    for (const policy of ['Always', 'IfNotPresent', 'Never'] as const) {
      const m = workerDeploymentManifest({ deploymentName: 'quickstart', workPool: 'k8s-pool', kwargs: { ...custom, image_pull_policy: policy } });
      validate(m);
      const container = (m.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers[0]!;
      expect(container.imagePullPolicy).toBe(policy);
    }
    const m = workerDeploymentManifest({ deploymentName: 'quickstart', workPool: 'k8s-pool', kwargs: custom });
    expect(m.metadata).toMatchObject({ name: 'quickstart-k8s-pool', namespace: 'ml-prod' });
    expect(m).toMatchObject({
      spec: {
        replicas: 3, // num_replicas, as lolpop's worker manifest takes it
        template: {
          spec: {
            serviceAccountName: 'flows',
            containers: [{ image: 'registry.example/prefect-worker:3', command: ['prefect', 'worker', 'start', '--type', 'kubernetes', '--pool', 'k8s-pool'] }],
          },
        },
      },
    });
  });

  it('the Secret uses the configured key names and is valid', () => {
    const s = secretManifest({ kwargs: custom, apiUrl: 'https://api.prefect.cloud/api/accounts/a/workspaces/w', apiKey: 'pnu_x' });
    validate(s);
    expect(s).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'prefect-conn', namespace: 'ml-prod', labels: { 'app.kubernetes.io/managed-by': 'lolpop-deploy' } },
      type: 'Opaque',
      stringData: { 'api-url': 'https://api.prefect.cloud/api/accounts/a/workspaces/w', 'api-key': 'pnu_x' },
    });
  });

  it('lolpop bug 7: a self-hosted server without PREFECT_API_KEY gives a Secret without the key, and pods still start', () => {
    const s = secretManifest({ kwargs: defaults, apiUrl: 'http://prefect.internal:4200/api' });
    validate(s);
    expect(s.stringData).toEqual({ 'prefect-api-url': 'http://prefect.internal:4200/api' });
    // The key reference is optional, so a pod starts without it.
    const m = flowDeploymentManifest({ deploymentName: 'qs', flowName: 'f', image: 'i:1', kwargs: defaults });
    expect(JSON.stringify(m)).toContain('"key":"prefect-api-key","optional":true');
  });

  it.each([
    [1, 'quickstart', 'quickstart'],
    [2, 'Quickstart_PR-3', 'quickstart-pr-3'],
    [3, 'qs.v2', 'qs-v2'],
    [4, `${'a'.repeat(70)}`, `${'a'.repeat(56)}-6bd5e5`], // cut to 56 + '-' + 6 hex of the full name's SHA-256
    [5, '--x--', 'x'],
  ])('%i: Kubernetes name of %s is %s', (_n, input, expected) => {
    expect(kubernetesName(input, 'deployment name')).toBe(expected);
  });

  it('a name with nothing usable is a config error that says what to fix', () => {
    expect(() => kubernetesName('___', 'deployment name')).toThrow("deployment name '___' gives no valid Kubernetes name (lower-case letters, digits and '-')");
  });

  it('a preview name is a valid Deployment name and label value', () => {
    const m = flowDeploymentManifest({ deploymentName: 'Quickstart_PR-12', flowName: 'prefect-entrypoint', image: 'i:1', kwargs: defaults });
    validate(m);
    expect(m.metadata.name).toBe('quickstart-pr-12');
    expect(m.metadata.labels?.['lolpop-deploy/deployment']).toBe('Quickstart_PR-12');
  });

  it('deploy.resources and the image pull Secret: on the pod spec, and valid', () => {
    const kwargs = DeployKwargs.parse({
      service_account: 'flows',
      resources: {
        cpu: '250m',
        memory: { request: '256Mi', limit: '1Gi' },
        gpu: { count: 2 },
        node_selector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'gpu', operator: 'Exists' }],
        service_account: 'trainer',
        env_from_secrets: { MLFLOW_TOKEN: { secret: 'mlflow', key: 'token' } },
      },
    });
    const m = flowDeploymentManifest({ deploymentName: 'qs', flowName: 'f', image: '127.0.0.1:5000/qs:1', kwargs, pullSecret: 'qs-registry' });
    validate(m);
    const pod = (m.spec as { template: { spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> } } }).template.spec;
    expect(pod).toMatchObject({
      serviceAccountName: 'trainer',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'gpu', operator: 'Exists' }],
      imagePullSecrets: [{ name: 'qs-registry' }],
    });
    expect(pod.containers[0]!.resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi', 'nvidia.com/gpu': '2' },
      limits: { memory: '1Gi', 'nvidia.com/gpu': '2' },
    });
    expect(pod.containers[0]!.env).toContainEqual({ name: 'MLFLOW_TOKEN', valueFrom: { secretKeyRef: { name: 'mlflow', key: 'token' } } });
    const pull = pullSecretManifest({ name: 'qs-registry', namespace: 'lolpop', registry: '127.0.0.1:5000', username: 'u', password: 'p' });
    validate(pull);
  });
});
