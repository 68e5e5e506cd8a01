import { randomUUID } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { service } from '../helpers/services.js';
import { cleanDockerEnv, docker, dockerServices, packageOnly, quickstartProject, writeFiles } from './helpers.js';

const services = dockerServices();
const plugin = service('LOLPOP_TEST_BUILDX_PLUGIN');
const uid = randomUUID().slice(0, 8);

/** A Docker config of its own with the buildx plugin in it: this test's builds see buildx, no other's do. */
function buildxEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = cleanDockerEnv(extra);
  mkdirSync(path.join(env.DOCKER_CONFIG!, 'cli-plugins'), { recursive: true });
  symlinkSync(plugin!, path.join(env.DOCKER_CONFIG!, 'cli-plugins', 'docker-buildx'));
  return env;
}

// The engine here is Debian 12's Docker 20.10 with the buildx plugin built from source:
// the docker driver, BuildKit inside the engine. No docker-container builder (its image
// comes from Docker Hub) and no GitHub Actions cache service can run here.
describe.skipIf(!services || !plugin)('package with docker buildx on a real engine', () => {
  const { registry, busybox, credentials } = services!;
  const kwargs = (tag: string) => ({
    lolpop_class: 'QuickstartRunner',
    lolpop_module: 'quickstart_runner',
    copy_files: ['quickstart_runner.py'],
    lolpop_install_location: '',
    base_image: busybox,
    docker_image_tag: tag,
    // No bridge network here: RUN steps use the host's.
    docker_kwargs: ['--network', 'host'],
    push_image: true,
  });

  it('builds with docker buildx build (BuildKit output), pushes, and on Actions says once why there is no layer cache', async () => {
    const dir = quickstartProject();
    writeFiles(dir, { Dockerfile: `FROM ${busybox}\nCOPY quickstart_runner.py /app/\nRUN echo built > /built\n` });
    // The variables the runner gives a JavaScript action when its cache service is there.
    const env = buildxEnv({ ACTIONS_RUNTIME_TOKEN: 'not-a-real-token', ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/' });
    const { result, error, logger } = await packageOnly({ dir, kwargs: kwargs(`${registry}/ci/buildx-${uid}:1`), env, registry: credentials });
    expect(error, logger.lines.join('\n')).toBeUndefined();
    const log = logger.lines.join('\n');
    // BuildKit's plain progress, not the classic builder's "Step 1/3".
    expect(log).toMatch(/#\d+ \[internal\] load build definition from Dockerfile/);
    expect(log).not.toMatch(/Step 1\/3/);
    expect(logger.lines.filter((l) => l.includes('the docker builder driver cannot export a layer cache'))).toHaveLength(1);
    expect(result!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(docker('run', '--rm', '--network', 'host', result!.image!, 'cat', '/built')).toBe('built');
  });

  it("a failing RUN step under BuildKit reports the step and its last output lines", async () => {
    const dir = quickstartProject();
    writeFiles(dir, { Dockerfile: `FROM ${busybox}\nRUN echo fine\nRUN echo "collecting numpy"; echo "ERROR: No matching distribution found for numpy==0.0" >&2; exit 7\n` });
    const { error } = await packageOnly({ dir, kwargs: { ...kwargs(`${registry}/ci/buildx-fail-${uid}:1`), push_image: false }, env: buildxEnv() });
    const [summary, output] = error!.message.split('; last output: ');
    expect(summary).toBe(
      `Failed to build the image ${registry}/ci/buildx-fail-${uid}:1: [3/3] RUN echo "collecting numpy"; ` +
        'echo "ERROR: No matching distribution found for numpy==0.0" >&2; exit 7 failed (exit code 7)',
    );
    // stdout and stderr of the step reach BuildKit on two pipes: their order is not fixed.
    expect(output?.split(' | ').sort()).toEqual(['ERROR: No matching distribution found for numpy==0.0', 'collecting numpy']);
  });

  it('BuildKit-only docker_kwargs reach buildx instead of being dropped', async () => {
    const dir = quickstartProject();
    writeFiles(dir, { Dockerfile: `FROM ${busybox}\nRUN echo x > /x\n` });
    const { error, logger } = await packageOnly({
      dir,
      kwargs: { ...kwargs(`ci/buildx-kw-${uid}:1`), push_image: false, docker_kwargs: ['--network', 'host', '--provenance=false'] },
      env: buildxEnv(),
    });
    expect(error, logger.lines.join('\n')).toBeUndefined();
    expect(logger.lines.join('\n')).not.toContain('ignoring BuildKit-only docker_kwargs');
  });
});
