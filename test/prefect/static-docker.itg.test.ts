import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { prefectApi, runConfig } from '../helpers/pipeline.js';

// A real Docker engine (scripts/docker-services.sh) with a local Python+Prefect base
// image, and the real Prefect server of scripts/services.sh.
const apiUrl = service('LOLPOP_TEST_PREFECT_URL');
const baseImage = service('LOLPOP_TEST_BASE_IMAGE');

const RUNNER_PY = `
class StaticRunner:
    def __init__(self, conf, skip_config_validation=False):
        self.conf = conf

    def build_all(self, **params):
        print(f"static runner built with {params}")
`;

const uid = randomUUID().slice(0, 6);
// On the CI engine (vfs storage, no layer sharing) creating a container from a
// Python+Prefect image copies its whole filesystem: tens of seconds per docker run.
const SLOW = 600_000;
const name = `static-e2e-${uid}`;
const container = `lolpop-e2e-${uid}`;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The config; `resources`: lines under deploy.resources (indented 8). */
function yaml(resources?: string): string {
  return `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${apiUrl}"}
  deployment:
    name: ${name}
    type: docker
    package:
      lolpop_class: StaticRunner
      lolpop_module: static_runner
      copy_files: [static_runner.py]
      base_image: ${baseImage}
      lolpop_install_location: ""
      docker_image_tag: "lolpop-static-e2e:${uid}"
      create_deployment: true
      docker_kwargs: [--network, host]
    deploy:
      container_name: ${container}
      docker_kwargs: [--network, host]
      serve_timeout: 120s
${resources ? `      resources:\n${resources}\n` : ''}    run:
      parameters: {epochs: 2}
      wait: true
      wait_timeout: 120s
      poll_interval: 1s
`;
}

describe.skipIf(!apiUrl || !baseImage)('type docker without a work pool: a serving container on a real Docker engine', () => {
  const dir = tempDir('static');
  writeFileSync(path.join(dir, 'static_runner.py'), RUNNER_PY);
  // The docker CLI needs the runner's environment (PATH, HOME, DOCKER_HOST); no Prefect key here.
  const env = { ...process.env, PREFECT_API_KEY: undefined, PREFECT_API_URL: undefined };
  const pipeline = (steps: string) => runConfig({ dir, yaml: yaml(), env, ci: ciContext({ runId: randomUUID() }), steps });
  const status = () => {
    try {
      return docker('container', 'inspect', '--format', '{{.State.Status}}', container);
    } catch {
      return 'gone';
    }
  };

  afterAll(() => {
    if (status() !== 'gone') docker('rm', '--force', container);
    try {
      docker('image', 'rm', '--force', `lolpop-static-e2e:${uid}`);
    } catch {
      // already gone
    }
  }, SLOW);

  it('package → deploy → run: the container serves, its deployment registers, the run COMPLETES', async () => {
    const { result, logger } = await pipeline('package,deploy,run');
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.deployment!.name).toBe(`prefect-entrypoint/${name}`);
    expect(result.run!.state).toBe('COMPLETED');
    expect(status()).toBe('running');
    expect(docker('container', 'inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', container)).toBe('unless-stopped');
    // The URL reached the container by name only: its value is in no argument Docker recorded.
    expect(docker('container', 'inspect', '--format', '{{json .Args}}', container)).not.toContain(apiUrl!);
    const deployment = await prefectApi<{ id: string; paused: boolean; work_pool_name: string | null }>(apiUrl!, 'GET', `deployments/${result.deployment!.id}`);
    expect(deployment).toMatchObject({ paused: false, work_pool_name: null });
  }, SLOW);

  it('stop removes the container and leaves the deployment paused', async () => {
    const { result, logger } = await pipeline('stop');
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.stopped).toEqual({ stopped: true, detail: `removed container ${container}; paused deployment prefect-entrypoint/${name}` });
    expect(status()).toBe('gone');
    const deployment = await prefectApi<{ paused: boolean }>(apiUrl!, 'GET', `deployments/name/prefect-entrypoint/${name}`);
    expect(deployment.paused).toBe(true);
  }, SLOW);

  it('a second deploy after stop serves again (resumed), and a run COMPLETES; re-deploy never leaves two containers', async () => {
    const { result, logger } = await pipeline('deploy,run');
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.run!.state).toBe('COMPLETED');
    const again = await pipeline('deploy');
    expect(again.result.error, again.logger.lines.join('\n')).toBeUndefined();
    expect(again.logger.lines).toContain(`info: removed the previous container ${container}`);
    const serving = docker('ps', '--filter', `label=io.github.lolpop-deploy.deployment=${name}`, '--format', '{{.Names}}');
    expect(serving.split('\n')).toEqual([container]);
    const deployment = await prefectApi<{ paused: boolean }>(apiUrl!, 'GET', `deployments/name/prefect-entrypoint/${name}`);
    expect(deployment.paused).toBe(false);
  }, SLOW);

  it('deploy.resources become the serving container\'s limits (docker inspect), and a run COMPLETES under them', async () => {
    const resources = ['        cpu: {request: 250m, limit: 500m}', '        memory: {request: 128Mi, limit: 768Mi}'].join('\n');
    const { result, logger } = await runConfig({ dir, yaml: yaml(resources), env, ci: ciContext({ runId: randomUUID() }), steps: 'deploy,run' });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.run!.state).toBe('COMPLETED');
    const limits = JSON.parse(docker('container', 'inspect', '--format', '{{json .HostConfig}}', container)) as Record<string, unknown>;
    expect(limits).toMatchObject({ NanoCpus: 500_000_000, Memory: 805_306_368, MemoryReservation: 134_217_728 });
    expect(limits.DeviceRequests ?? null).toBeNull();
    expect(logger.lines.some((l) => l.includes('--cpus 0.5 --memory 805306368b --memory-reservation 134217728b --network host'))).toBe(true);
  }, SLOW);

  it('a GPU on an engine without one: deploy fails with Docker\'s own line, at once, and leaves no container', async () => {
    const started = Date.now();
    const { result } = await runConfig({ dir, yaml: yaml('        gpu: {count: 1}'), env, ci: ciContext({ runId: randomUUID() }), steps: 'deploy' });
    expect(result.error?.message).toBe(
      `Failed to start the container ${container} from lolpop-static-e2e:${uid}: docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]]`,
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(status()).toBe('gone');
  }, SLOW);

  it('a key one Docker engine cannot honour is refused by name before anything is touched', async () => {
    const { result } = await runConfig({ dir, yaml: yaml('        node_selector: {zone: a}'), env, ci: ciContext({ runId: randomUUID() }), steps: 'deploy' });
    expect(result.error?.message).toMatch(
      /^orchestrator\.deployment\.deploy\.resources cannot be honoured by a Prefect static docker deployment \(its serving container\): orchestrator\.deployment\.deploy\.resources\.node_selector: a Docker engine is one host/,
    );
  }, SLOW);

  it('a re-deploy under another container name removes the old container (found by its label)', async () => {
    const renamed = `${container}-renamed`;
    try {
      const { result, logger } = await runConfig({
        dir,
        yaml: yaml().replace(`container_name: ${container}`, `container_name: ${renamed}`),
        env,
        ci: ciContext({ runId: randomUUID() }),
        steps: 'deploy',
      });
      expect(result.error, logger.lines.join('\n')).toBeUndefined();
      const serving = docker('ps', '--all', '--filter', `label=io.github.lolpop-deploy.deployment=${name}`, '--format', '{{.Names}}');
      expect(serving.split('\n')).toEqual([renamed]);
    } finally {
      docker('rm', '--force', renamed);
    }
  }, SLOW);
});
