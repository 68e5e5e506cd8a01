import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  PrefectDeployKwargs as DeployKwargs,
  PrefectPackageKwargs as PackageKwargs,
  PrefectStopKwargs as StopKwargs,
} from '../../src/orchestrators/prefect/kwargs.js';
import type { Exec, ExecOptions, ExecResult } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';
import { KubernetesDeployer } from '../../src/orchestrators/prefect/kubernetes/deployer.js';
import { applyArgs, deleteArgs, deleteManifestArgs, describeKubectlFailure, Kubectl } from '../../src/orchestrators/prefect/kubernetes/kubectl.js';
import { PrefectOrchestrator } from '../../src/orchestrators/prefect/orchestrator.js';
import { PrefectConfig } from '../../src/orchestrators/prefect/config.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { resolvedFrom } from '../helpers/requests.js';
import { stepRequests } from '../../src/step-requests.js';
import type { PrefectKwargs } from '../../src/orchestrators/prefect/kwargs.js';
import type { PrefectTarget } from '../../src/orchestrators/prefect/target.js';

interface Call {
  command: string;
  args: string[];
  options: ExecOptions;
}

/** An Exec that records every call and answers kubectl like a cluster would. */
function fakeExec(answer: (call: Call) => Partial<ExecResult> = () => ({})): Exec & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async run(command, args, options = {}) {
      const call = { command, args, options };
      calls.push(call);
      return { exitCode: 0, stdout: '', stderr: '', ...answer(call) };
    },
  };
}

describe('kubectl argv', () => {
  it.each([
    [1, applyArgs('lolpop'), ['apply', '--namespace', 'lolpop', '-f', '-']],
    [2, applyArgs('ml-prod'), ['apply', '--namespace', 'ml-prod', '-f', '-']],
    [3, deleteArgs('deployment', 'qs', 'lolpop'), ['delete', 'deployment', 'qs', '--namespace', 'lolpop', '--ignore-not-found=true', '--wait=false']],
    [4, deleteArgs('deployment', 'qs-k8s-pool', 'ml-prod'), ['delete', 'deployment', 'qs-k8s-pool', '--namespace', 'ml-prod', '--ignore-not-found=true', '--wait=false']],
    [5, deleteArgs('secret', 'prefect-secrets', 'lolpop'), ['delete', 'secret', 'prefect-secrets', '--namespace', 'lolpop', '--ignore-not-found=true', '--wait=false']],
    [6, deleteManifestArgs('lolpop'), ['delete', '--namespace', 'lolpop', '--ignore-not-found=true', '--wait=false', '-f', '-']],
  ])('%i', (_n, actual, expected) => {
    expect(actual).toEqual(expected);
  });

  it.each([
    [1, 'error: unable to find "kubectl": Unable to locate executable file: kubectl', 'kubectl is not installed on the runner'],
    [2, 'Error from server (NotFound): error when creating "STDIN": namespaces "lolpop" not found', 'the namespace does not exist; create it (kubectl create namespace lolpop) or set deploy.namespace'],
    [
      3,
      'E0101 memcache.go couldn\'t get current server API group list: Get "http://localhost:8080/api": dial tcp 127.0.0.1:8080: connect: connection refused\nThe connection to the server localhost:8080 was refused',
      "no Kubernetes cluster is reachable with the runner's kubeconfig (The connection to the server localhost:8080 was refused)",
    ],
    [4, 'Error from server (Forbidden): deployments.apps is forbidden', 'Error from server (Forbidden): deployments.apps is forbidden'],
  ])('%i: failure message', (_n, output, expected) => {
    expect(describeKubectlFailure(output, 'lolpop')).toBe(expected);
  });
});

const connection = { apiUrl: 'https://api.prefect.cloud/api/accounts/a/workspaces/w', apiKey: 'pnu_topsecret' };
const kwargs = { ...DeployKwargs.parse({ namespace: 'ml-prod' }) };

describe('KubernetesDeployer through kubectl', () => {
  it('applies the Secret on stdin — the key never on a command line — then the flow Deployment', async () => {
    const exec = fakeExec((c) => ({ stdout: c.args[0] === 'apply' ? 'applied\n' : '' }));
    const dir = tempDir('k8s');
    const deployer = new KubernetesDeployer(new Kubectl(exec, new MemoryLogger(), {}), new MemoryLogger(), dir, connection);
    const applied = await deployer.deploy({ deploymentName: 'qs', kwargs, flowName: 'prefect-entrypoint', image: 'ghcr.io/acme/qs:1' });
    expect(applied).toEqual(['secret/prefect-secrets', 'deployment/qs']);
    expect(exec.calls.map((c) => [c.command, ...c.args])).toEqual([
      ['kubectl', 'apply', '--namespace', 'ml-prod', '-f', '-'],
      ['kubectl', 'apply', '--namespace', 'ml-prod', '-f', '-'],
    ]);
    for (const call of exec.calls) expect(call.args.join(' ')).not.toContain('pnu_topsecret');
    expect(exec.calls[0]!.options.input).toContain('pnu_topsecret');
    const deployment = parseAllDocuments(exec.calls[1]!.options.input!).map((d) => d.toJS());
    expect(deployment).toMatchObject([{ kind: 'Deployment', metadata: { name: 'qs', namespace: 'ml-prod' } }]);
    // The reviewed copy lolpop writes next to the entrypoint carries no secret.
    const written = readFileSync(path.join(dir, 'prefect_files/deployment_manifest.yaml'), 'utf8');
    expect(written).toContain('kind: Deployment');
    expect(written).not.toContain('pnu_topsecret');
  });

  it("k8s_deployment_manifest applies the user's own manifest, and stop deletes exactly its objects", async () => {
    const dir = tempDir('k8s');
    mkdirSync(path.join(dir, 'k8s'));
    const own = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-flow}\nspec: {replicas: 2}\n';
    writeFileSync(path.join(dir, 'k8s/flow.yaml'), own);
    const exec = fakeExec((c) => ({ stdout: c.args[0] === 'delete' ? 'deployment.apps "my-flow" deleted\n' : '' }));
    const deployer = new KubernetesDeployer(new Kubectl(exec, new MemoryLogger(), {}), new MemoryLogger(), dir, connection);
    const withOwn = { ...kwargs, k8s_deployment_manifest: 'k8s/flow.yaml' };
    expect(await deployer.deploy({ deploymentName: 'qs', kwargs: withOwn, flowName: 'f' })).toEqual(['secret/prefect-secrets', 'deployment/my-flow']);
    expect(parseAllDocuments(exec.calls[1]!.options.input!).map((d) => d.toJS())).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'my-flow' }, spec: { replicas: 2 } },
    ]);
    const stopped = await deployer.stop({ deploymentName: 'qs', kwargs: withOwn, deleteSecret: false });
    expect(exec.calls[2]!.args).toEqual(['delete', '--namespace', 'ml-prod', '--ignore-not-found=true', '--wait=false', '-f', '-']);
    expect(stopped).toEqual({
      deleted: true,
      detail: 'deleted the objects of k8s/flow.yaml in ml-prod; kept Secret ml-prod/prefect-secrets (shared; stop.delete_secret: true removes it)',
    });
  });

  it('lolpop bug 7: no PREFECT_API_KEY (self-hosted) is not an error; the Secret has the URL only', async () => {
    const exec = fakeExec();
    const deployer = new KubernetesDeployer(new Kubectl(exec, new MemoryLogger(), {}), new MemoryLogger(), tempDir('k8s'), {
      apiUrl: 'http://prefect.internal:4200/api',
    });
    await deployer.deploy({ deploymentName: 'qs', kwargs, flowName: 'f', image: 'i:1' });
    const secret = parseAllDocuments(exec.calls[0]!.options.input!)[0]!.toJS() as { stringData: Record<string, string> };
    expect(secret.stringData).toEqual({ 'prefect-api-url': 'http://prefect.internal:4200/api' });
  });

  it('a failing kubectl is one line that says what to fix', async () => {
    const exec = fakeExec(() => ({ exitCode: 1, stderr: 'Error from server (NotFound): namespaces "ml-prod" not found' }));
    const deployer = new KubernetesDeployer(new Kubectl(exec, new MemoryLogger(), {}), new MemoryLogger(), tempDir('k8s'), connection);
    await expect(deployer.deploy({ deploymentName: 'qs', kwargs, flowName: 'f', image: 'i:1' })).rejects.toThrow(
      'Failed to apply the Secret prefect-secrets in namespace ml-prod: the namespace does not exist; create it (kubectl create namespace ml-prod) or set deploy.namespace',
    );
  });
});

describe('PrefectOrchestrator.stop, kubernetes', () => {
  /** A Prefect API that knows no deployment (stop then only undoes the Kubernetes side). */
  const emptyPrefect = (async (input: string | URL | Request) => {
    const url = new URL(new Request(input).url);
    if (url.pathname.endsWith('/admin/version')) return Response.json('3.8.8');
    return Response.json({ detail: 'Deployment not found' }, { status: 404 });
  }) as typeof globalThis.fetch;

  function orchestrator(exec: Exec) {
    return new PrefectOrchestrator(PrefectConfig.parse({}), {
      logger: new MemoryLogger(),
      exec,
      fetch: emptyPrefect,
      env: { PREFECT_API_URL: 'http://prefect.internal:4200/api' },
      ci: ciContext(),
      workdir: tempDir('k8s'),
      configFile: 'lolpop.yaml',
    });
  }

  it("lolpop bug 3: with a work pool, stop deletes the worker '{name}-{work_pool}' in its namespace, not '{name}' in the current one", async () => {
    const exec = fakeExec(() => ({ stdout: 'deployment.apps "quickstart-k8s-pool" deleted\n' }));
    const result = await orchestrator(exec).stop(
      stepRequests(
        resolvedFrom<PrefectKwargs, PrefectTarget>('PrefectOrchestrator', { name: 'quickstart', type: 'kubernetes', stop: StopKwargs.parse({}), package: PackageKwargs.parse({ lolpop_class: 'QuickstartRunner' }), deploy: DeployKwargs.parse({ work_pool: 'k8s-pool' }) }),
      ).stop(),
    );
    expect(exec.calls.map((c) => c.args)).toEqual([
      ['delete', 'deployment', 'quickstart-k8s-pool', '--namespace', 'lolpop', '--ignore-not-found=true', '--wait=false'],
    ]);
    expect(result.stopped).toBe(true);
    expect(result.detail).toBe(
      'deleted worker Deployment lolpop/quickstart-k8s-pool; kept Secret lolpop/prefect-secrets (shared; stop.delete_secret: true removes it); ' +
        'no deployment prefect-entrypoint/quickstart on http://prefect.internal:4200/api',
    );
  });

  it('without a pool, stop deletes the flow Deployment (and the Secret when asked); all gone is a notice', async () => {
    const exec = fakeExec();
    const result = await orchestrator(exec).stop(
      stepRequests(
        resolvedFrom<PrefectKwargs, PrefectTarget>('PrefectOrchestrator', { name: 'quickstart', type: 'kubernetes', stop: StopKwargs.parse({ delete_secret: true }), package: PackageKwargs.parse({ lolpop_class: 'QuickstartRunner' }), deploy: DeployKwargs.parse({ namespace: 'ml-prod' }) }),
      ).stop(),
    );
    expect(exec.calls.map((c) => c.args.slice(0, 5))).toEqual([
      ['delete', 'deployment', 'quickstart', '--namespace', 'ml-prod'],
      ['delete', 'secret', 'prefect-secrets', '--namespace', 'ml-prod'],
    ]);
    expect(result).toEqual({
      stopped: false,
      detail:
        'no Deployment ml-prod/quickstart; no Secret ml-prod/prefect-secrets; no deployment prefect-entrypoint/quickstart on http://prefect.internal:4200/api: nothing to stop',
    });
  });
});
