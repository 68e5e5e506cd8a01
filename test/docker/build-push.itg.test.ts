import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { service } from '../helpers/services.js';
import { cleanDockerEnv, docker, dockerServices, packageOnly, quickstartProject, registryDigest, runPipelineIn, SHA, writeFiles } from './helpers.js';

const services = dockerServices();
const uid = randomUUID().slice(0, 8);

describe.skipIf(!services)('package on a real Docker engine and a registry with htpasswd auth', () => {
  const { registry, baseImage, busybox, credentials } = services!;
  const quickstart = (overrides: Record<string, unknown> = {}) => ({
    lolpop_class: 'QuickstartRunner',
    lolpop_module: 'quickstart_runner',
    copy_files: ['quickstart_runner.py', 'train.csv', 'test.csv', 'dev.yaml'],
    config_file: 'dev.yaml',
    lolpop_install_location: '',
    base_image: baseImage,
    docker_image_tag: `${registry}/ci/QuickStart-${uid}:{short_sha}-{run}`,
    docker_kwargs: ['--network', 'host'],
    push_image: true,
    ...overrides,
  });

  it('builds from the local base image, pushes with the inputs’ credentials, and outputs the digest the registry serves', async () => {
    const dir = quickstartProject();
    const env = cleanDockerEnv();
    const { result, error, logger } = await packageOnly({ dir, kwargs: quickstart(), env, registry: credentials });
    expect(error, logger.lines.join('\n')).toBeUndefined();
    // Placeholders filled, repository lower-cased.
    expect(result!.image).toBe(`${registry}/ci/quickstart-${uid}:${SHA.slice(0, 7)}-7`);
    expect(result!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await registryDigest(registry, result!.image!, credentials)).toBe(result!.digest);
    // OCI labels link the image to the commit.
    const labels = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config.Labels}}', result!.image!)) as Record<string, string>;
    expect(labels).toMatchObject({
      'org.opencontainers.image.source': 'https://github.com/acme/quickstart',
      'org.opencontainers.image.revision': SHA,
    });
    expect(Date.parse(labels['org.opencontainers.image.created']!)).toBeGreaterThan(Date.now() - 600_000);
    // The password was masked, and the login stayed out of the user's Docker config.
    expect(logger.lines.join('\n')).not.toContain(credentials.password);
    expect(existsSync(path.join(env.DOCKER_CONFIG!, 'config.json'))).toBe(false);
    // The image runs the generated entrypoint's module from WORKDIR /opt/prefect.
    const ls = docker('run', '--rm', '--network', 'host', result!.image!, 'python', '-c', 'import quickstart_runner, os; print(sorted(os.listdir(".")))');
    expect(ls).toContain("'prefect_files'");
  });

  it('lolpop bugs 4 and 5 (docs/lolpop-0.2.0-bugs.md) under the real Prefect 3 in the image: run.py imports (no DeploymentImage) and flow_kwargs arrive as Python values', async () => {
    const flowKwargs = { log_prints: true, retries: 2, description: "lolpop's \"quickstart\"" };
    const { result, error, logger } = await packageOnly({
      dir: quickstartProject(),
      kwargs: quickstart({ push_image: false, docker_image_tag: `ci/bugs-${uid}:1`, flow_kwargs: flowKwargs }),
      env: cleanDockerEnv(),
    });
    expect(error, logger.lines.join('\n')).toBeUndefined();
    const probe = [
      'import importlib.util, json',
      "spec = importlib.util.spec_from_file_location('run', 'prefect_files/run.py')",
      'module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)',
      'f = module.prefect_entrypoint',
      'print(json.dumps({"name": f.name, "log_prints": f.log_prints, "retries": f.retries, "description": f.description}))',
    ].join('\n');
    const out = docker('run', '--rm', '--network', 'host', result!.image!, 'python', '-c', probe);
    expect(JSON.parse(out.split('\n').pop()!)).toEqual({ name: 'prefect-entrypoint', log_prints: true, retries: 2, description: flowKwargs.description });
  });

  it('uses a docker/login-action style login from the Docker config when no credentials are given', async () => {
    const env = cleanDockerEnv();
    docker('--config', env.DOCKER_CONFIG!, 'login', registry, '-u', credentials.username, '-p', credentials.password);
    const { result, error, logger } = await packageOnly({ dir: quickstartProject(), kwargs: quickstart({ docker_image_tag: `${registry}/ci/login-${uid}:1` }), env });
    expect(error, logger.lines.join('\n')).toBeUndefined();
    expect(await registryDigest(registry, result!.image!, credentials)).toBe(result!.digest);
  });

  it('a rebuild after a code-only change reuses the dependency layer', async () => {
    const dir = quickstartProject();
    writeFileSync(path.join(dir, 'requirements.txt'), `# nothing to install: pip runs offline (${randomUUID()})\n`);
    const kwargs = quickstart({ copy_files: ['requirements.txt', 'quickstart_runner.py', 'train.csv', 'test.csv', 'dev.yaml'], push_image: false, docker_image_tag: `ci/cache-${uid}:1` });
    const first = await packageOnly({ dir, kwargs, env: cleanDockerEnv() });
    expect(first.error, first.logger.lines.join('\n')).toBeUndefined();
    // Unique per run, so no layer cached by an earlier run of the suite matches it.
    writeFileSync(path.join(dir, 'quickstart_runner.py'), `${readFileSync(path.join(dir, 'quickstart_runner.py'), 'utf8')}\n# a code change ${randomUUID()}\n`);
    const second = await packageOnly({ dir, kwargs, env: cleanDockerEnv() });
    expect(second.error).toBeUndefined();
    const lines = second.logger.lines.map((l) => l.replace(/^\w+: /, ''));
    const pip = lines.findIndex((l) => /RUN pip install --no-cache-dir -r requirements.txt/.test(l));
    expect(pip, lines.join('\n')).toBeGreaterThanOrEqual(0);
    expect(lines.slice(pip + 1, pip + 3).join('\n')).toMatch(/Using cache|CACHED/);
    // …and the code layer after it was rebuilt.
    expect(lines.slice(pip + 3).join('\n')).not.toMatch(/Using cache|CACHED/);
  });

  it('build_args reach the build through the environment, never the docker command line', async () => {
    const dir = quickstartProject();
    const value = `s3cr3t-${uid}`;
    writeFiles(dir, { Dockerfile: `FROM ${busybox}\nARG TOKEN\nRUN echo "$TOKEN" > /token\n` });
    const { result, error, logger } = await packageOnly({
      dir,
      kwargs: quickstart({ push_image: false, docker_image_tag: `ci/buildarg-${uid}:1`, build_args: { TOKEN: value } }),
      env: cleanDockerEnv(),
    });
    expect(error, logger.lines.join('\n')).toBeUndefined();
    expect(docker('run', '--rm', '--network', 'host', result!.image!, 'cat', '/token')).toBe(value);
  });

  it('a failing RUN step reports the step and its last output lines', async () => {
    const dir = quickstartProject();
    writeFiles(dir, {
      Dockerfile: `FROM ${busybox}\nRUN echo fine\nRUN echo "collecting numpy"; echo "ERROR: No matching distribution found for numpy==0.0" >&2; exit 7\n`,
    });
    const { error } = await packageOnly({ dir, kwargs: quickstart({ docker_image_tag: `${registry}/ci/fail-${uid}:1` }), env: cleanDockerEnv(), registry: credentials });
    const [summary, output] = error!.message.split('; last output: ');
    expect(summary).toBe(
      `Failed to build the image ${registry}/ci/fail-${uid}:1: step 3 RUN echo "collecting numpy"; echo "ERROR: No matching distribution found for numpy==0.0" >&2; exit 7 failed (exit code 7)`,
    );
    // stdout and stderr arrive on two pipes, so their relative order is not fixed.
    expect(output?.split(' | ').sort()).toEqual(['ERROR: No matching distribution found for numpy==0.0', 'collecting numpy']);
  });

  it('a push without credentials says the registry refused, and why', async () => {
    const dir = quickstartProject();
    writeFiles(dir, { Dockerfile: `FROM ${busybox}\nCOPY dev.yaml /dev.yaml\n` });
    const { error } = await packageOnly({ dir, kwargs: quickstart({ docker_image_tag: `${registry}/ci/nocreds-${uid}:1` }), env: cleanDockerEnv() });
    expect(error?.message).toBe(
      `Failed to push ${registry}/ci/nocreds-${uid}:1: the registry refused: no basic auth credentials; ` +
        'log in first (docker/login-action in the workflow, or the registry-username and registry-password inputs) with an account that may push there',
    );
  });

  it('wrong credentials fail at login, naming the registry and user', async () => {
    const { error } = await packageOnly({ dir: quickstartProject(), kwargs: quickstart(), env: cleanDockerEnv(), registry: { username: credentials.username, password: 'wrong-password' } });
    expect(error?.message).toMatch(new RegExp(`^Failed to log in to ${registry.replace(/\./g, '\\.')} as ${credentials.username}: .*unauthorized`, 'i'));
    expect(error?.message).not.toContain('wrong-password');
  });

  it('no Docker daemon: one line', async () => {
    const { error } = await packageOnly({ dir: quickstartProject(), kwargs: quickstart({ push_image: false }), env: cleanDockerEnv({ DOCKER_HOST: 'unix:///tmp/lolpop-no-docker.sock' }) });
    expect(error?.message).toBe(
      `Failed to build the image ${registry}/ci/quickstart-${uid}:${SHA.slice(0, 7)}-7: no Docker daemon answers at unix:///tmp/lolpop-no-docker.sock (is Docker running? is DOCKER_HOST right?)`,
    );
  });

  it("an image whose Prefect major is not the server's fails at package time, in one line, before any push", async () => {
    const prefect2 = service('LOLPOP_TEST_PREFECT2_URL');
    const dir = quickstartProject();
    const yaml = stringify({
      decorator: { orchestrator: 'PrefectOrchestrator' },
      orchestrator: { config: {}, deployment: { name: `mismatch-${uid}`, package: quickstart({ docker_image_tag: `${registry}/ci/mismatch-${uid}:1` }) } },
    });
    const { result, logger } = await runPipelineIn({ dir, yaml, env: cleanDockerEnv({ PREFECT_API_URL: prefect2 }), steps: 'package', registry: credentials });
    expect(result.error?.message, logger.lines.join('\n')).toBe(
      `Failed to package: ${registry}/ci/mismatch-${uid}:1 has Prefect ${baseImage.replace(/^.*:([\d.]+)-.*$/, '$1')} but the server runs Prefect 2.20.27: flow runs would fail in the image; use a Prefect 2 base image`,
    );
    expect(logger.lines.some((l) => l.includes('docker push') || /pushed /.test(l))).toBe(false);
  });
});

