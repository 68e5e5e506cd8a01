import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigSync, loadedAs, type LoadedConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import type { Exec, ExecOptions } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';
import { packageProject } from '../../src/packaging/package-project.js';
import { PrefectConfig } from '../../src/orchestrators/prefect/config.js';
import { PREFECT_KWARGS, type PrefectKwargs } from '../../src/orchestrators/prefect/kwargs.js';
import { PrefectOrchestrator } from '../../src/orchestrators/prefect/orchestrator.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { renderDockerfile } from '../../src/packaging/dockerfile.js';
import { renderEntrypoint } from '../../src/packaging/entrypoint.js';
import { packageFiles } from '../../src/packaging/files.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { kubeStandIn } from '../helpers/kube-stand-in.js';
import { requestsOf, resolvedOf } from '../helpers/requests.js';
import type { PrefectTarget } from '../../src/orchestrators/prefect/target.js';

// One test per kwarg lolpop's PrefectOrchestrator docs documents (PrefectOrchestrator's package, deploy and stop,
// and its config): each is shown honoured, with what it changes, or refused with the
// reason. The real servers and tools are exercised elsewhere (test/prefect, test/docker,
// test/lolpop); here fakes record what would be sent, so every kwarg gets a row.

interface Call {
  command: string;
  args: string[];
  input?: string;
}

function recordingExec(): Exec & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async run(command: string, args: string[], options: ExecOptions = {}) {
      calls.push({ command, args, input: options.input });
      // A Docker CLI without the buildx plugin, as Debian 12's: the classic `docker build`.
      if (args[0] === 'buildx') return { exitCode: 1, stdout: '', stderr: "docker: 'buildx' is not a docker command." };
      // push prints the digest; the package-time check asks the image's python for its versions.
      const stdout =
        args[0] === 'push'
          ? 'latest: digest: sha256:' + 'a'.repeat(64) + ' size: 1\n'
          : args[0] === 'run' && args.includes('python')
            ? '{"python": "3.11.2", "prefect": "2.20.27", "lolpop": "0.2.0"}\n'
            : '';
      return { exitCode: 0, stdout, stderr: '' };
    },
  };
}

/** A Prefect 2.20 API that knows the pools named here and records every deployment body. */
function recordingPrefect(pools: Record<string, string>) {
  const deployments: Array<Record<string, unknown>> = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const route = url.pathname.replace(/^\/api/, '');
    if (route === '/admin/version') return Response.json('2.20.27');
    if (route === '/csrf-token') return Response.json({ detail: 'CSRF protection is disabled.' }, { status: 422 });
    const pool = /^\/work_pools\/([^/]+)$/.exec(route)?.[1];
    if (pool) return pools[pool] ? Response.json({ name: pool, type: pools[pool], status: 'READY' }) : Response.json({ detail: 'not found' }, { status: 404 });
    if (route === '/flows/') return Response.json({ id: 'f-1', name: ((await request.json()) as { name: string }).name }, { status: 201 });
    if (route === '/deployments/') {
      const body = (await request.json()) as Record<string, unknown>;
      deployments.push(body);
      return Response.json({ id: 'd-1', name: body.name, flow_id: body.flow_id, paused: false }, { status: 201 });
    }
    return Response.json({ detail: `unexpected ${request.method} ${route}` }, { status: 500 });
  }) as typeof globalThis.fetch;
  return { fetch, deployments };
}

/** The docs' quickstart config with `deployment` merged in, loaded as the CLI loads it. */
function load(deployment: Record<string, unknown>, config: Record<string, unknown> = {}): LoadedConfig<PrefectKwargs> {
  const dir = tempDir('kwargs');
  const file = path.join(dir, 'quickstart.yaml');
  const base = { package: { lolpop_class: 'QuickstartRunner', lolpop_module: 'prefect_files.quickstart_runner' } };
  writeFileSync(
    file,
    stringify({ decorator: { orchestrator: 'PrefectOrchestrator' }, orchestrator: { config, deployment: { name: 'quickstart', ...base, ...deployment, package: { ...base.package, ...(deployment.package as object) } } } }),
  );
  return loadedAs(loadConfigSync(file, {}, orchestratorLookup, {}), PREFECT_KWARGS);
}

function refusal(deployment: Record<string, unknown>): string {
  try {
    load(deployment);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.replace(/^.*quickstart\.yaml:\d+:\d+: /, '');
  }
  throw new Error('expected the kwarg to be refused');
}

const entrypoint = (pkg: Record<string, unknown>) => {
  const config = load({ package: pkg });
  return renderEntrypoint(config.deployment.package, { deploymentName: config.deployment.name });
};
const dockerfile = (pkg: Record<string, unknown>) => renderDockerfile(load({ package: pkg }).deployment.package);

// type kubernetes applies over the Kubernetes API: this stand-in records what is sent.
let kube: Awaited<ReturnType<typeof kubeStandIn>>;
beforeAll(async () => {
  kube = await kubeStandIn();
});
afterAll(() => kube.close());
/** What was applied (not dry-run) since the last call, as YAML documents, each after its request path. */
function applied(): string {
  const out = kube.requests
    .filter((r) => r.method === 'PATCH' && !r.path.includes('dryRun=All'))
    .map((r) => `${r.path.split('?')[0]}\n${stringify(r.body)}`)
    .join('---\n');
  kube.requests.length = 0;
  return out;
}

function orchestrator(exec: Exec, fetch: typeof globalThis.fetch, workdir = tempDir('kwargs-work')) {
  return new PrefectOrchestrator(PrefectConfig.parse({}), {
    logger: new MemoryLogger(),
    exec,
    fetch,
    env: { PREFECT_API_URL: 'http://prefect.test/api', HOME: workdir, KUBECONFIG: kube.kubeconfig },
    ci: ciContext(),
    workdir,
    configFile: 'quickstart.yaml',
  });
}

/** The body of POST /deployments/ for a deploy with these kwargs, on a pool of `poolType`. */
async function deploymentBody(deploy: Record<string, unknown>, poolType = 'docker'): Promise<Record<string, unknown>> {
  const config = load({ deploy: { work_pool: 'pool', ...deploy } });
  const prefect = recordingPrefect({ pool: poolType });
  await orchestrator(recordingExec(), prefect.fetch).deploy(requestsOf<PrefectKwargs, PrefectTarget>(config).deploy());
  return prefect.deployments[0]!;
}

/** The docker argv package runs for these package kwargs (a docker pool, so it builds). */
async function packageCalls(pkg: Record<string, unknown>): Promise<Call[]> {
  const config = load({ package: pkg });
  const exec = recordingExec();
  await packageProject(
    resolvedOf(config),
    { logger: new MemoryLogger(), exec, fetch: globalThis.fetch, env: {}, ci: ciContext(), workdir: tempDir('kwargs-pkg'), configFile: 'quickstart.yaml', buildImage: true },
  );
  return exec.calls;
}

describe('PrefectOrchestrator docs: package kwargs', () => {
  it('lolpop_class: the class the entrypoint builds', () => expect(entrypoint({ lolpop_class: 'MyRunner' })).toContain('runner = MyRunner(conf='));
  it('lolpop_module: where it is imported from', () => expect(entrypoint({ lolpop_module: 'pkg.runners' })).toContain('from pkg.runners import QuickstartRunner'));
  it('lolpop_entrypoint: the method the flow calls', () => expect(entrypoint({ lolpop_entrypoint: 'train' })).toContain('runner.train(**kwargs)'));
  it('flow_name: the flow function', () => expect(entrypoint({ flow_name: 'nightly' })).toMatch(/^def nightly\(/m));
  it("package_type: 'none' writes no Dockerfile; another type is refused", () => {
    const config = load({ package: { package_type: 'none' } });
    expect(packageFiles(config.deployment.package, { deploymentName: 'q', exists: () => false }).map((f) => f.path)).toEqual(['prefect_files/run.py']);
    expect(refusal({ package: { package_type: 'zip' } })).toMatch(/^orchestrator\.deployment\.package\.package_type: Invalid option: expected one of "docker"\|"none"/);
  });
  it('base_image: FROM', () => expect(dockerfile({ base_image: 'python:3.11-slim' })).toContain('FROM python:3.11-slim'));
  it('prefect_files: where run.py goes, and what is copied', () => {
    const config = load({ package: { prefect_files: 'flows/' } });
    expect(packageFiles(config.deployment.package, { deploymentName: 'q', exists: () => false }).map((f) => f.path)).toEqual(['flows/run.py', 'Dockerfile']);
    expect(renderDockerfile(config.deployment.package)).toContain('COPY flows flows/');
  });
  it('copy_files: copied into the workdir', () => expect(dockerfile({ copy_files: ['train.csv', 'process_titanic.py'] })).toContain('COPY train.csv process_titanic.py ./'));
  it('lolpop_install_location: what pip installs (a local archive is copied first)', () => {
    const text = dockerfile({ lolpop_install_location: 'prefect_files/lolpop-testing.tar.gz[cli,prefect]' });
    expect(text).toContain("COPY prefect_files/lolpop-testing.tar.gz prefect_files/lolpop-testing.tar.gz\nRUN pip install --no-cache-dir 'prefect_files/lolpop-testing.tar.gz[cli,prefect]'");
    // Quoted for the shell: unquoted, `[cli,prefect]` is a glob pattern.
  });
  it('run_cmd: the image CMD', () => expect(dockerfile({ run_cmd: 'python prefect_files/run.py --verbose' })).toContain('CMD ["python", "prefect_files/run.py", "--verbose"]'));
  it("config_file: the runner's conf", () => expect(entrypoint({ config_file: 'prefect_files/quickstart.yaml' })).toContain('QuickstartRunner(conf="prefect_files/quickstart.yaml"'));
  it('flow_kwargs: the @flow arguments', () => expect(entrypoint({ flow_kwargs: { name: 'qs', retries: 2 } })).toContain('@flow(name="qs", retries=2)'));
  it('dockerfile_path: where the Dockerfile is written', () => {
    const config = load({ package: { dockerfile_path: 'docker/Dockerfile.lolpop' } });
    expect(packageFiles(config.deployment.package, { deploymentName: 'q', exists: () => false }).map((f) => f.path)).toContain('docker/Dockerfile.lolpop');
  });
  it('docker_image_tag: the built tag', async () => {
    const build = (await packageCalls({ docker_image_tag: 'lolpop-quickstartrunner-build-all-serve' })).find((c) => c.args[0] === 'build')!;
    expect(build.args.join(' ')).toContain('--tag lolpop-quickstartrunner-build-all-serve');
  });
  it('push_image: docker push after the build', async () => {
    const calls = await packageCalls({ docker_image_tag: 'registry.test/qs:1', push_image: true });
    // buildx inspect (which builder: none here), build, run (the image check), push.
    expect(calls.map((c) => c.args[0])).toEqual(['buildx', 'build', 'run', 'push']);
    expect(calls[3]!.args).toContain('registry.test/qs:1');
  });
  it('skip_validation: skip_config_validation=True in the entrypoint', () => expect(entrypoint({ skip_validation: true })).toContain('skip_config_validation=True'));
  it('create_deployment: the image serves the flow as the deployment', () =>
    expect(entrypoint({ create_deployment: true })).toContain('prefect_entrypoint.serve(name="quickstart")'));
  it('work_pool: with a pool named and no server, package writes files only (as lolpop)', async () => {
    const config = load({ package: { work_pool: 'lolpop-docker-pool' } });
    const exec = recordingExec();
    const workdir = tempDir('kwargs-work');
    const prefect = new PrefectOrchestrator(PrefectConfig.parse({}), { logger: new MemoryLogger(), exec, fetch: globalThis.fetch, env: { HOME: workdir }, ci: ciContext(), workdir, configFile: 'q.yaml' });
    const result = await prefect.package(requestsOf<PrefectKwargs, PrefectTarget>(config, { name: 'q' }).package());
    expect(result.files).toEqual(['prefect_files/run.py', 'Dockerfile']);
    expect(exec.calls).toEqual([]);
  });
  it('job_variables: reach the deployment', async () => {
    const config = load({ package: { job_variables: { image_pull_policy: 'Never' } }, deploy: { work_pool: 'pool' } });
    const prefect = recordingPrefect({ pool: 'docker' });
    await orchestrator(recordingExec(), prefect.fetch).deploy(requestsOf<PrefectKwargs, PrefectTarget>(config, { name: 'q', type: 'docker' }).deploy());
    expect(prefect.deployments[0]!.job_variables).toMatchObject({ image_pull_policy: 'Never' });
  });
  it("docker_kwargs (_build_docker_image): lolpop's dict form becomes docker build flags", async () => {
    const build = (await packageCalls({ docker_kwargs: { network: 'host', 'no-cache': true } })).find((c) => c.args[0] === 'build')!;
    expect(build.args.join(' ')).toContain('--network host --no-cache');
  });
});

describe('PrefectOrchestrator docs: deploy kwargs', () => {
  it('deployment_name (-n): the deployment', async () => expect((await deploymentBody({})).name).toBe('quickstart'));
  it('deployment_type (-t): kubernetes applies manifests over the Kubernetes API; another type is refused', async () => {
    expect(refusal({ type: 'nomad' })).toMatch(/^orchestrator\.deployment\.type: Invalid option/);
    const config = load({ type: 'kubernetes', deploy: { work_pool: 'pool' } });
    const exec = recordingExec();
    const prefect = recordingPrefect({ pool: 'kubernetes' });
    applied();
    await orchestrator(exec, prefect.fetch).deploy(requestsOf<PrefectKwargs, PrefectTarget>(config, { name: 'q', type: 'kubernetes' }).deploy());
    expect(exec.calls).toEqual([]);
    expect(applied().split('---\n').map((doc) => doc.split('\n')[0])).toEqual([
      '/api/v1/namespaces/lolpop/secrets/prefect-secrets',
      '/apis/apps/v1/namespaces/lolpop/deployments/q-pool',
    ]);
  });
  it('work_pool: the pool of the deployment', async () => expect((await deploymentBody({ work_pool: 'pool' })).work_pool_name).toBe('pool'));
  it('flow_class + flow_entrypoint: the flow the deployment runs', async () => {
    expect((await deploymentBody({ flow_class: 'prefect_files.run', flow_entrypoint: 'prefect_entrypoint' })).entrypoint).toBe('prefect_files/run.py:prefect_entrypoint');
    expect((await deploymentBody({ flow_class: 'flows.nightly', flow_entrypoint: 'train' })).entrypoint).toBe('flows/nightly.py:train');
  });
  it("docker_image_name: the image the pool's worker runs", async () =>
    expect((await deploymentBody({ docker_image_name: 'lolpop-quickstart-runner-build-all:latest' })).job_variables).toMatchObject({ image: 'lolpop-quickstart-runner-build-all:latest' }));
  it("k8s_deployment_manifest: the user's manifest is applied instead of a generated one", async () => {
    const workdir = tempDir('kwargs-work');
    writeFileSync(path.join(workdir, 'mine.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: mine}\nspec: {}\n');
    const config = load({ type: 'kubernetes', deploy: { work_pool: 'pool', k8s_deployment_manifest: 'mine.yaml' } });
    applied();
    await orchestrator(recordingExec(), recordingPrefect({ pool: 'kubernetes' }).fetch, workdir).deploy(requestsOf<PrefectKwargs, PrefectTarget>(config, { name: 'q', type: 'kubernetes' }).deploy());
    expect(applied()).toContain('/apis/apps/v1/namespaces/lolpop/deployments/mine\n');
  });
  it('dockerfile: refused, with where it belongs', () => expect(refusal({ deploy: { dockerfile: 'Dockerfile' } })).toBe('deploy.dockerfile: lolpop-deploy builds the image in the package step: set package.dockerfile_path'));
  it('push_image: refused, with where it belongs', () => expect(refusal({ deploy: { push_image: true } })).toBe('deploy.push_image: lolpop-deploy pushes the image in the package step: set package.push_image'));
  it('job_variables: the deployment job variables', async () => expect((await deploymentBody({ job_variables: { image_pull_policy: 'IfNotPresent', namespace: 'lolpop' } })).job_variables).toMatchObject({ image_pull_policy: 'IfNotPresent', namespace: 'lolpop' }));

  /** The objects applied for a kubernetes deploy with these kwargs (YAML, each after its API path). */
  async function manifests(deploy: Record<string, unknown>): Promise<{ stdin: string; workdir: string }> {
    const workdir = tempDir('kwargs-work');
    const config = load({ type: 'kubernetes', deploy: { work_pool: 'pool', ...deploy } });
    applied();
    await orchestrator(recordingExec(), recordingPrefect({ pool: 'kubernetes' }).fetch, workdir).deploy(requestsOf<PrefectKwargs, PrefectTarget>(config, { name: 'q', type: 'kubernetes' }).deploy());
    return { stdin: applied(), workdir };
  }
  it('secret_name, prefect_api_url, prefect_api_key: the Secret and its keys', async () => {
    const { stdin } = await manifests({ secret_name: 'ml-secrets', prefect_api_url: 'url-key', prefect_api_key: 'key-key' });
    expect(stdin).toContain('name: ml-secrets');
    expect(stdin).toContain('url-key:');
    expect(stdin).toContain('key: url-key');
  });
  it('num_replicas, image_pull_policy, worker_image, service_account: the worker Deployment', async () => {
    const { stdin } = await manifests({ num_replicas: 2, image_pull_policy: 'IfNotPresent', worker_image: 'prefecthq/prefect:2-python3.11-kubernetes', service_account: 'prefect-worker' });
    expect(stdin).toContain('replicas: 2');
    expect(stdin).toContain('imagePullPolicy: IfNotPresent');
    expect(stdin).toContain('image: prefecthq/prefect:2-python3.11-kubernetes');
    expect(stdin).toContain('serviceAccountName: prefect-worker');
  });
  it('namespace: where everything is applied', async () => expect((await manifests({ namespace: 'ml-prod' })).stdin).toContain('/namespaces/ml-prod/deployments/q-pool'));
  it('worker_deployment_manifest: where the worker manifest is written for review', async () => {
    const { workdir } = await manifests({ worker_deployment_manifest: 'k8s/worker.yaml' });
    expect(readFileSync(path.join(workdir, 'k8s/worker.yaml'), 'utf8')).toContain('kind: Deployment');
  });
  it('manifest_path: where the flow Deployment manifest is written (no pool)', async () => {
    const workdir = tempDir('kwargs-work');
    const config = load({ type: 'kubernetes', deploy: { manifest_path: 'k8s/flow.yaml', docker_image_name: 'qs:1', serve_timeout: '1ms' } });
    await orchestrator(recordingExec(), recordingPrefect({}).fetch, workdir)
      .deploy(requestsOf<PrefectKwargs, PrefectTarget>(config, { name: 'q', type: 'kubernetes' }).deploy())
      .catch(() => undefined); // no served flow registers here: only the written manifest matters
    expect(existsSync(path.join(workdir, 'k8s/flow.yaml'))).toBe(true);
  });
  it('flow_kwargs: refused, with where it belongs', () =>
    expect(refusal({ deploy: { flow_kwargs: { retries: 1 } } })).toBe(
      "deploy.flow_kwargs: the flow's @flow(...) arguments are written into the generated entrypoint: set package.flow_kwargs (or orchestrator.config.flow_kwargs)",
    ));
  it("deployment_kwargs: Prefect deploy() arguments reach the deployment; one that means nothing over REST is refused", async () => {
    const body = await deploymentBody({ deployment_kwargs: { job_variables: { image_pull_policy: 'Never' }, tags: ['nightly'], description: 'd', version: '7', interval: 3600 } });
    expect(body).toMatchObject({ job_variables: { image_pull_policy: 'Never' }, tags: ['nightly'], description: 'd', version: '7', schedules: [{ schedule: { interval: 3600 }, active: true }] });
    expect(refusal({ deploy: { deployment_kwargs: { build: false } } })).toBe('orchestrator.deployment.deploy.deployment_kwargs.build: unknown key; check its spelling');
  });
});

describe('PrefectOrchestrator docs: stop kwargs', () => {
  it('docker_image_name: accepted for lolpop parity; the serving container is found by the deployment, not the image', () => {
    expect(load({ stop: { docker_image_name: 'lolpop-quickstartrunner-build-all-serve' } }).deployment.stop.docker_image_name).toBe('lolpop-quickstartrunner-build-all-serve');
  });
});

describe("lolpop's PrefectOrchestrator docs: PrefectOrchestrator's config", () => {
  it('prefect_settings: the connection (the environment wins)', async () => {
    const config = load({}, { prefect_settings: { PREFECT_API_URL: 'http://from-settings.test/api' } });
    expect((config.orchestratorConfig as PrefectConfig).prefect_settings.PREFECT_API_URL).toBe('http://from-settings.test/api');
  });
  it('prefect_profile: read from the Prefect profiles file (test/prefect/profiles.test.ts)', () => {
    expect((load({}, { prefect_profile: 'dev' }).orchestratorConfig as PrefectConfig).prefect_profile).toBe('dev');
  });
  it('flow_kwargs: the generated @flow(...) unless package gives its own', () => {
    const config = load({}, { flow_kwargs: { log_prints: true, retries: 1 } });
    expect(renderEntrypoint(config.deployment.package, { deploymentName: 'q' })).toContain('@flow(log_prints=True, retries=1)');
  });
  it.each(['decorator_method', 'integration_types', 'prefect_flow_integration', 'prefect_task_integration', 'task_kwargs', 'cache_tasks'])(
    "%s: lolpop's own runner reads it (checked for its type, passed through untouched)",
    (key) => {
      const values: Record<string, unknown> = {
        decorator_method: 'decorator',
        integration_types: ['component'],
        prefect_flow_integration: ['runner'],
        prefect_task_integration: ['component'],
        task_kwargs: { retries: 2 },
        cache_tasks: false,
      };
      expect((load({}, { [key]: values[key] }).orchestratorConfig as Record<string, unknown>)[key]).toEqual(values[key]);
      expect(() => load({}, { [key]: 42 })).toThrow(ConfigError);
    },
  );
});
