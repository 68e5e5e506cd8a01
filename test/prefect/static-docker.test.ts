import { describe, expect, it } from 'vitest';
import { PrefectDeployKwargs as DeployKwargs, PrefectPackageKwargs as PackageKwargs } from '../../src/orchestrators/prefect/kwargs.js';
import {
  containerLogsArgs,
  containerNameFor,
  inspectContainerArgs,
  removeContainerArgs,
  runContainerArgs,
  stopContainerArgs,
} from '../../src/docker/args.js';
import type { Exec, ExecOptions, ExecResult } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';
import { PrefectConfig } from '../../src/orchestrators/prefect/config.js';
import { PrefectOrchestrator } from '../../src/orchestrators/prefect/orchestrator.js';
import { StaticDockerHost, staticDockerResources } from '../../src/orchestrators/prefect/static-docker.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { resolvedFrom } from '../helpers/requests.js';
import { stepRequests } from '../../src/step-requests.js';
import type { PrefectKwargs } from '../../src/orchestrators/prefect/kwargs.js';
import type { PrefectTarget } from '../../src/orchestrators/prefect/target.js';

interface Call {
  args: string[];
  options: ExecOptions;
}

function fakeDocker(answer: (args: string[]) => Partial<ExecResult> = () => ({})): Exec & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async run(_command, args, options = {}) {
      calls.push({ args, options });
      return { exitCode: 0, stdout: '', stderr: '', ...answer(args) };
    },
  };
}

const label = 'io.github.lolpop-deploy.deployment';

describe('docker argv for a serving container', () => {
  it.each([
    [
      1,
      runContainerArgs({ name: 'qs', image: 'qs:1', restart: 'unless-stopped', envNames: ['PREFECT_API_URL'], labels: { [label]: 'qs' }, extra: [] }),
      ['run', '--detach', '--name', 'qs', '--restart', 'unless-stopped', '--label', `${label}=qs`, '--env', 'PREFECT_API_URL', 'qs:1'],
    ],
    [
      2,
      runContainerArgs({
        name: 'qs-pr-3',
        image: 'ghcr.io/acme/qs:abc',
        restart: 'always',
        envNames: ['PREFECT_API_URL', 'PREFECT_API_KEY'],
        labels: {},
        extra: ['--network', 'host'],
      }),
      ['run', '--detach', '--name', 'qs-pr-3', '--restart', 'always', '--env', 'PREFECT_API_URL', '--env', 'PREFECT_API_KEY', '--network', 'host', 'ghcr.io/acme/qs:abc'],
    ],
    [3, stopContainerArgs('qs', 20), ['stop', '--time', '20', 'qs']],
    [4, removeContainerArgs('qs'), ['rm', '--force', 'qs']],
    [5, inspectContainerArgs('qs'), ['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'qs']],
    [6, containerLogsArgs('qs', 8), ['logs', '--tail', '8', 'qs']],
  ])('%i', (_n, actual, expected) => {
    expect(actual).toEqual(expected);
  });

  it.each([
    [1, 'quickstart', 'quickstart'],
    [2, 'Quickstart PR/3', 'Quickstart-PR-3'],
    [3, '-lead', 'lead'],
  ])('%i: container name of %s is %s', (_n, input, expected) => {
    expect(containerNameFor(input)).toBe(expected);
  });

  it('refuses a value where a variable name belongs (a value would land on the command line)', () => {
    expect(() => runContainerArgs({ name: 'q', image: 'i', restart: 'no', envNames: ['PREFECT_API_KEY=pnu_x'], labels: {}, extra: [] })).toThrow(
      "'PREFECT_API_KEY=pnu_x' is not an environment variable name",
    );
  });
});

describe('StaticDockerHost', () => {
  const connection = { apiUrl: 'http://prefect.internal:4200/api', apiKey: 'pnu_topsecret', authString: 'admin:pw' };

  it('replaces the old container and passes the key through the child env only, never argv', async () => {
    const exec = fakeDocker((args) => (args[0] === 'run' ? { stdout: 'abc123\n' } : {}));
    const logger = new MemoryLogger();
    logger.addSecret('pnu_topsecret');
    const host = new StaticDockerHost(exec, logger, { DOCKER_HOST: 'ssh://deploy@box', PATH: '/usr/bin' }, connection);
    const id = await host.replace({ name: 'qs', image: 'qs:1', deploymentName: 'qs', restart: 'unless-stopped', extra: ['--network', 'host'] });
    expect(id).toBe('abc123');
    expect(exec.calls.map((c) => c.args.slice(0, 2))).toEqual([
      ['rm', '--force'],
      ['ps', '--all'],
      ['run', '--detach'],
    ]);
    const run = exec.calls[2]!;
    expect(run.args.join(' ')).not.toMatch(/pnu_topsecret|admin:pw/);
    expect(run.args).toEqual(expect.arrayContaining(['--env', 'PREFECT_API_KEY', '--env', 'PREFECT_API_AUTH_STRING']));
    expect(run.options.env).toMatchObject({
      PREFECT_API_URL: 'http://prefect.internal:4200/api',
      PREFECT_API_KEY: 'pnu_topsecret',
      PREFECT_API_AUTH_STRING: 'admin:pw',
      DOCKER_HOST: 'ssh://deploy@box',
    });
    expect(logger.rawLines.join('\n')).not.toContain('pnu_topsecret');
  });

  it('without a key (self-hosted, lolpop bug 7) it passes only the URL', async () => {
    const exec = fakeDocker();
    await new StaticDockerHost(exec, new MemoryLogger(), {}, { apiUrl: 'http://p:4200/api' }).replace({
      name: 'qs',
      image: 'qs:1',
      deploymentName: 'qs',
      restart: 'unless-stopped',
      extra: [],
    });
    const run = exec.calls.find((c) => c.args[0] === 'run')!;
    expect(run.args.filter((a, i) => run.args[i - 1] === '--env')).toEqual(['PREFECT_API_URL']);
    expect(run.options.env).not.toHaveProperty('PREFECT_API_KEY');
  });

  it('reports a crashed container with its last log lines', async () => {
    const exec = fakeDocker((args) =>
      args[0] === 'container' ? { stdout: 'restarting 1\n' } : { stderr: 'Traceback ...\nModuleNotFoundError: No module named prefect\n' },
    );
    expect(await new StaticDockerHost(exec, new MemoryLogger(), {}, connection).problem('qs')).toBe(
      'the container qs is restarting (exit code 1): Traceback ... | ModuleNotFoundError: No module named prefect',
    );
  });

  it('a start the engine refuses (a GPU it has no driver for): Docker\'s own line, and the created container is removed', async () => {
    const refusal =
      'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]]\n\nRun \'docker run --help\' for more information\n';
    const exec = fakeDocker((args) => (args[0] === 'run' ? { exitCode: 125, stderr: refusal } : {}));
    const host = new StaticDockerHost(exec, new MemoryLogger(), {}, connection);
    await expect(host.replace({ name: 'qs', image: 'qs:1', deploymentName: 'qs', restart: 'no', extra: [], resources: { gpus: 1 } })).rejects.toThrow(
      /^Failed to start the container qs from qs:1: docker: Error response from daemon: could not select device driver "" with capabilities: \[\[gpu\]\]$/,
    );
    expect(exec.calls.map((c) => c.args.join(' '))).toEqual([
      'rm --force qs',
      'ps --all --quiet --filter label=io.github.lolpop-deploy.deployment=qs',
      'run --detach --name qs --restart no --label io.github.lolpop-deploy.deployment=qs --env PREFECT_API_URL --env PREFECT_API_KEY --env PREFECT_API_AUTH_STRING --gpus 1 qs:1',
      'rm --force qs',
    ]);
  });

  it('arguments Docker would read two ways fail before the serving container is touched (nothing left serving otherwise)', async () => {
    const exec = fakeDocker();
    const host = new StaticDockerHost(exec, new MemoryLogger(), {}, connection);
    await expect(
      host.replace({ name: 'qs', image: 'qs:2', deploymentName: 'qs', restart: 'no', extra: ['-m', '1g'], resources: { memoryBytes: 1024 } }),
    ).rejects.toThrow('docker_kwargs gives --memory, which deploy.resources sets too');
    expect(exec.calls).toEqual([]);
  });

  it('the check package, plan and deploy make first refuses an option docker_kwargs gives too, in any spelling', () => {
    const resources = { memory: { request: undefined, limit: '1Gi' } };
    expect(() => staticDockerResources({ deploy: { resources, docker_kwargs: ['-m1g'] } })).toThrow('docker_kwargs gives --memory');
    expect(staticDockerResources({ deploy: { resources, docker_kwargs: ['--network', 'host'] } })).toEqual({ memoryBytes: 1073741824 });
  });

  it('stop of a container that is already gone answers false, not an error', async () => {
    const exec = fakeDocker((args) => (args[0] === 'ps' ? {} : { exitCode: 1, stderr: 'Error response from daemon: No such container: qs' }));
    expect(await new StaticDockerHost(exec, new MemoryLogger(), {}, connection).stopAndRemove('qs', 'qs')).toBe(false);
  });

  it('re-deploy and stop also remove containers of the deployment under another name (found by label)', async () => {
    const exec = fakeDocker((args) => (args[0] === 'ps' ? { stdout: 'old111\n' } : args[0] === 'run' ? { stdout: 'new222\n' } : {}));
    const host = new StaticDockerHost(exec, new MemoryLogger(), {}, connection);
    await host.replace({ name: 'qs-renamed', image: 'qs:2', deploymentName: 'qs', restart: 'unless-stopped', extra: [] });
    expect(exec.calls.map((c) => c.args)).toEqual(
      expect.arrayContaining([
        ['ps', '--all', '--quiet', '--filter', `label=${label}=qs`],
        ['rm', '--force', 'old111'],
      ]),
    );
    expect(exec.calls.findIndex((c) => c.args.includes('old111'))).toBeLessThan(exec.calls.findIndex((c) => c.args[0] === 'run'));
  });
});

describe('PrefectOrchestrator.deploy without a work pool', () => {
  const orchestrator = (exec: Exec = fakeDocker()) =>
    new PrefectOrchestrator(PrefectConfig.parse({}), {
      logger: new MemoryLogger(),
      exec,
      fetch: (async () => Response.json('3.8.8')) as typeof globalThis.fetch,
      env: { PREFECT_API_URL: 'http://p:4200/api' },
      ci: ciContext(),
      workdir: tempDir('static'),
      configFile: 'lolpop.yaml',
    });
  const requests = (type: 'docker' | 'local', pkg: Record<string, unknown> = {}, deploy: Record<string, unknown> = {}) =>
    stepRequests(
      resolvedFrom<PrefectKwargs, PrefectTarget>('PrefectOrchestrator', {
        name: 'qs',
        type,
        deploy: DeployKwargs.parse(deploy),
        package: PackageKwargs.parse({ lolpop_class: 'QuickstartRunner', ...pkg }),
      }),
    );
  const request = (type: 'docker' | 'local', pkg: Record<string, unknown> = {}) => requests(type, pkg).deploy();

  it('type local says plainly that the action does not serve in a runner process', async () => {
    await expect(orchestrator().deploy(request('local'))).rejects.toThrow(
      "Failed to deploy: deployment.type 'local' without a work pool would serve the flow in a process on this runner, which ends with the job; set deploy.work_pool (e.g. a process pool), or use type docker or kubernetes",
    );
  });

  it('type docker: deploy.resources Docker cannot honour is refused by name before the old container is touched', async () => {
    const exec = fakeDocker();
    const deploy = requests('docker', { create_deployment: true }, { resources: { cpu: '1', service_account: 'trainer' } }).deploy();
    await expect(orchestrator(exec).deploy(deploy)).rejects.toThrow(
      'orchestrator.deployment.deploy.resources cannot be honoured by a Prefect static docker deployment (its serving container): ' +
        'orchestrator.deployment.deploy.resources.service_account: a Docker container runs under no Kubernetes ServiceAccount;',
    );
    expect(exec.calls).toEqual([]);
  });

  it('type docker: package refuses it too, before a build', async () => {
    const exec = fakeDocker();
    const pkg = requests('docker', { create_deployment: true }, { resources: { env_from_secrets: { T: { secret: 's', key: 'k' } } } }).package();
    await expect(orchestrator(exec).package(pkg)).rejects.toThrow('orchestrator.deployment.deploy.resources.env_from_secrets: Docker has no Secrets to read;');
    expect(exec.calls).toEqual([]);
  });

  it('type docker needs an image that serves (create_deployment: true)', async () => {
    await expect(orchestrator().deploy(request('docker'))).rejects.toThrow(/only serves with package.create_deployment: true/);
  });
});
