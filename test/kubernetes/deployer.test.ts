import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrchestratorError } from '../../src/errors.js';
import { KubernetesUnreachable, type KubeApi, type KubeObject } from '../../src/kubernetes/client.js';
import { MemoryLogger } from '../../src/logger.js';
import { KubernetesDeployer } from '../../src/orchestrators/prefect/kubernetes/deployer.js';
import {
  PrefectDeployKwargs as DeployKwargs,
  PrefectPackageKwargs as PackageKwargs,
  PrefectStopKwargs as StopKwargs,
  type PrefectKwargs,
} from '../../src/orchestrators/prefect/kwargs.js';
import { PrefectConfig } from '../../src/orchestrators/prefect/config.js';
import { PrefectOrchestrator } from '../../src/orchestrators/prefect/orchestrator.js';
import type { PrefectTarget } from '../../src/orchestrators/prefect/target.js';
import { stepRequests } from '../../src/step-requests.js';
import { resolvedFrom } from '../helpers/requests.js';
import { ciContext, tempDir } from '../helpers/services.js';

interface Call {
  method: string;
  path?: string;
  object?: KubeObject;
  dryRun?: boolean;
  body?: object;
}

/**
 * A Kubernetes API that records every call: applies succeed (or `refuse` says why not),
 * every Deployment is rolled out, `existing` paths are there to patch or delete.
 */
function fakeApi(options: { refuse?: (o: KubeObject) => string | undefined; existing?: string[] } = {}): KubeApi & { calls: Call[] } {
  const calls: Call[] = [];
  const existing = new Set(options.existing ?? []);
  return {
    calls,
    async apply(object, opts = {}) {
      calls.push({ method: 'apply', object, dryRun: opts.dryRun ?? false });
      const refusal = options.refuse?.(object);
      if (refusal) throw new OrchestratorError(refusal);
      return object;
    },
    async get<T>(p: string) {
      calls.push({ method: 'get', path: p });
      return { metadata: { generation: 1 }, spec: { replicas: 1, selector: { matchLabels: {} } }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } } as T;
    },
    async mergePatch(p, body) {
      calls.push({ method: 'patch', path: p, body });
      return existing.has(p);
    },
    async delete(p) {
      calls.push({ method: 'delete', path: p });
      return existing.has(p);
    },
    async text() {
      return '';
    },
  };
}

const connection = { apiUrl: 'https://api.prefect.cloud/api/accounts/a/workspaces/w', apiKey: 'pnu_topsecret' };
const kwargs = DeployKwargs.parse({ namespace: 'ml-prod' });
const applied = (api: { calls: Call[] }, dryRun: boolean) => api.calls.filter((c) => c.method === 'apply' && c.dryRun === dryRun).map((c) => `${c.object!.kind}/${c.object!.metadata.name}`);

describe('KubernetesDeployer over the Kubernetes API', () => {
  it('dry-runs every object, then applies the Secret and the flow Deployment, and waits for the rollout', async () => {
    const api = fakeApi();
    const dir = tempDir('k8s');
    const logger = new MemoryLogger();
    const deployer = new KubernetesDeployer(api, logger, dir, connection);
    expect(await deployer.deploy({ deploymentName: 'qs', kwargs, flowName: 'prefect-entrypoint', image: 'ghcr.io/acme/qs:1' })).toEqual(['secret/prefect-secrets', 'deployment/qs']);
    expect(applied(api, true)).toEqual(['Secret/prefect-secrets', 'Deployment/qs']);
    expect(applied(api, false)).toEqual(['Secret/prefect-secrets', 'Deployment/qs']);
    expect(api.calls.at(-1)).toEqual({ method: 'get', path: '/apis/apps/v1/namespaces/ml-prod/deployments/qs' });
    expect(logger.lines).toContain('info: Deployment ml-prod/qs rolled out: 1 updated, 1 ready, 1 available of 1');
    // The reviewed copy lolpop writes next to the entrypoint carries no secret.
    const written = readFileSync(path.join(dir, 'prefect_files/deployment_manifest.yaml'), 'utf8');
    expect(written).toContain('kind: Deployment');
    expect(written).not.toContain('pnu_topsecret');
  });

  it('with registry credentials, an image pull Secret for the image registry, referenced by the pod', async () => {
    const api = fakeApi();
    const deployer = new KubernetesDeployer(api, new MemoryLogger(), tempDir('k8s'), connection, { username: 'ci', password: 'pw' });
    await deployer.deploy({ deploymentName: 'qs', kwargs, flowName: 'f', image: '127.0.0.1:5000/acme/qs:1' });
    const objects = api.calls.filter((c) => c.method === 'apply' && !c.dryRun).map((c) => c.object!);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Secret/prefect-secrets', 'Secret/qs-registry', 'Deployment/qs']);
    expect(objects[1]).toMatchObject({ type: 'kubernetes.io/dockerconfigjson' });
    const config = JSON.parse((objects[1]!.stringData as Record<string, string>)['.dockerconfigjson']!) as { auths: Record<string, { auth: string }> };
    expect(config.auths['127.0.0.1:5000']!.auth).toBe(Buffer.from('ci:pw').toString('base64'));
    expect(objects[2]).toMatchObject({ spec: { template: { spec: { imagePullSecrets: [{ name: 'qs-registry' }] } } } });
  });

  it('a refusal by the server (dry run) is its message, with nothing applied', async () => {
    const api = fakeApi({ refuse: (o) => (o.kind === 'Deployment' ? 'Kubernetes refused Deployment ml-prod/qs: namespaces "ml-prod" not found (HTTP 404 NotFound)' : undefined) });
    const deployer = new KubernetesDeployer(api, new MemoryLogger(), tempDir('k8s'), connection);
    await expect(deployer.deploy({ deploymentName: 'qs', kwargs, flowName: 'f', image: 'i:1' })).rejects.toThrow(
      'Failed to deploy, nothing applied: Kubernetes refused Deployment ml-prod/qs: namespaces "ml-prod" not found (HTTP 404 NotFound); create the namespace (kubectl create namespace ml-prod) or set deploy.namespace',
    );
    expect(applied(api, false)).toEqual([]);
  });

  it('an API server that gives no answer (e.g. its proxy is down) ends the dry run at once with its one line, not as a refusal per object', async () => {
    const api = fakeApi();
    const down = 'the Kubernetes API at https://10.0.0.1:6443 (kubeconfig) is not reachable: the proxy http://127.0.0.1:9 (HTTPS_PROXY) is not reachable: connect ECONNREFUSED 127.0.0.1:9';
    api.apply = async (object, opts = {}) => {
      api.calls.push({ method: 'apply', object, dryRun: opts.dryRun ?? false });
      throw new KubernetesUnreachable(down);
    };
    const deployer = new KubernetesDeployer(api, new MemoryLogger(), tempDir('k8s'), connection);
    const error = await deployer.deploy({ deploymentName: 'qs', kwargs, flowName: 'f', image: 'i:1' }).catch((e: Error) => e);
    expect((error as Error).message).toBe(down);
    expect(api.calls.filter((c) => c.method === 'apply')).toHaveLength(1);
  });

  it("k8s_deployment_manifest applies the user's own objects in our namespace, and stop deletes exactly them", async () => {
    const dir = tempDir('k8s');
    mkdirSync(path.join(dir, 'k8s'));
    writeFileSync(path.join(dir, 'k8s/flow.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-flow}\nspec: {replicas: 2}\n');
    const api = fakeApi({ existing: ['/apis/apps/v1/namespaces/ml-prod/deployments/my-flow'] });
    const deployer = new KubernetesDeployer(api, new MemoryLogger(), dir, connection);
    const withOwn = { ...kwargs, k8s_deployment_manifest: 'k8s/flow.yaml' };
    expect(await deployer.deploy({ deploymentName: 'qs', kwargs: withOwn, flowName: 'f' })).toEqual(['secret/prefect-secrets', 'deployment/my-flow']);
    expect(api.calls.find((c) => c.method === 'apply' && c.object!.kind === 'Deployment')!.object).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'my-flow', namespace: 'ml-prod' },
      spec: { replicas: 2 },
    });
    const stopped = await deployer.stop({ deploymentName: 'qs', kwargs: withOwn, mode: 'delete', deleteSecret: false });
    expect(stopped).toEqual({
      deleted: true,
      detail: 'deleted Deployment ml-prod/my-flow; kept Secret ml-prod/prefect-secrets (shared; stop.delete_secret: true removes it)',
    });
  });

  it('lolpop bug 7: no PREFECT_API_KEY (self-hosted) is not an error; the Secret has the URL only (pod_api_url when set)', async () => {
    const api = fakeApi();
    const deployer = new KubernetesDeployer(api, new MemoryLogger(), tempDir('k8s'), { apiUrl: 'http://127.0.0.1:4200/api' });
    await deployer.deploy({ deploymentName: 'qs', kwargs: { ...kwargs, pod_api_url: 'http://prefect.prefect.svc:4200/api' }, flowName: 'f', image: 'i:1' });
    expect(api.calls[0]!.object!.stringData).toEqual({ 'prefect-api-url': 'http://prefect.prefect.svc:4200/api' });
  });

  it("lolpop bug 3: with a work pool, stop scales the worker '{name}-{work_pool}' in its namespace to zero, not '{name}'", async () => {
    const worker = '/apis/apps/v1/namespaces/ml-prod/deployments/quickstart-k8s-pool';
    const api = fakeApi({ existing: [worker] });
    const deployer = new KubernetesDeployer(api, new MemoryLogger(), tempDir('k8s'), connection);
    const result = await deployer.stop({ deploymentName: 'quickstart', kwargs, workPool: 'k8s-pool', mode: 'pause', deleteSecret: false });
    expect(api.calls).toEqual([{ method: 'patch', path: worker, body: { spec: { replicas: 0 } } }]);
    expect(result).toEqual({
      deleted: true,
      detail: 'scaled Deployment ml-prod/quickstart-k8s-pool to 0 replicas; kept Secret ml-prod/prefect-secrets (shared; stop.delete_secret: true removes it)',
    });
  });

  it('stop.mode delete removes the Deployment and, asked, the Secret; all gone already is a notice', async () => {
    const api = fakeApi();
    const deployer = new KubernetesDeployer(api, new MemoryLogger(), tempDir('k8s'), connection);
    const result = await deployer.stop({ deploymentName: 'quickstart', kwargs, mode: 'delete', deleteSecret: true });
    expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'delete /apis/apps/v1/namespaces/ml-prod/deployments/quickstart',
      'delete /api/v1/namespaces/ml-prod/secrets/quickstart-registry',
      'delete /api/v1/namespaces/ml-prod/secrets/prefect-secrets',
    ]);
    expect(result).toEqual({ deleted: false, detail: 'no Deployment ml-prod/quickstart; no Secret ml-prod/prefect-secrets' });
  });

  it('deploy.resources a kubernetes pool cannot take is refused by name before its worker is applied', async () => {
    const sent: string[] = [];
    // The pool exists, with prefect-kubernetes' default template: cpu variables, no node_selector.
    const resources = { requests: { cpu: '{{ cpu_request }}' }, limits: { cpu: '{{ cpu_limit }}' } };
    const pool = {
      name: 'k8s-pool',
      type: 'kubernetes',
      base_job_template: {
        variables: { properties: { cpu_request: {}, cpu_limit: {} } },
        job_configuration: { job_manifest: { spec: { template: { spec: { containers: [{ resources }] } } } } },
      },
    };
    const prefect = new PrefectOrchestrator(PrefectConfig.parse({}), {
      logger: new MemoryLogger(),
      exec: { run: async (command) => (sent.push(command), { exitCode: 0, stdout: '', stderr: '' }) },
      fetch: (async (input: string | URL | Request) => {
        const url = String(input);
        sent.push(url);
        return url.endsWith('/admin/version') ? Response.json('3.8.8') : Response.json(pool);
      }) as typeof globalThis.fetch,
      env: { PREFECT_API_URL: 'http://prefect.internal:4200/api' },
      ci: ciContext(),
      workdir: tempDir('k8s'),
      configFile: 'lolpop.yaml',
    });
    const resolved = resolvedFrom<PrefectKwargs, PrefectTarget>('PrefectOrchestrator', {
      name: 'quickstart',
      type: 'kubernetes',
      stop: StopKwargs.parse({}),
      package: PackageKwargs.parse({ lolpop_class: 'QuickstartRunner' }),
      deploy: DeployKwargs.parse({ work_pool: 'k8s-pool', resources: { cpu: '1', node_selector: { pool: 'gpu' } } }),
    });
    await expect(prefect.deploy(stepRequests(resolved).deploy())).rejects.toThrow(
      "Failed to deploy: work pool 'k8s-pool' has no job variable for what deploy.resources asks (deploy.resources.node_selector needs 'node_selector')",
    );
    // Only the pool was read: no kubeconfig was looked for, no worker applied.
    expect(sent).toEqual(['http://prefect.internal:4200/api/work_pools/k8s-pool']);
  });
});
