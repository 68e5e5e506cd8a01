import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CiContext } from '../../src/ci-context.js';
import { loadConfigSync } from '../../src/config/load.js';
import { DeployKwargs, PackageKwargs } from '../../src/config/schema.js';
import { ProcessExec } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';
import type { PackageResult } from '../../src/orchestrators/orchestrator.js';
import { packageProject } from '../../src/packaging/package-project.js';
import { createOrchestrator, orchestratorLookup } from '../../src/orchestrators/registry.js';
import { runPipeline, type PipelineResult } from '../../src/pipeline.js';
import { parseSteps } from '../../src/steps.js';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { resolvedFrom, resolvedOf } from '../helpers/requests.js';

/** What scripts/docker-services.sh started; undefined on a laptop without it (a failure under REQUIRE_SERVICES=1). */
export function dockerServices() {
  const registry = service('LOLPOP_TEST_REGISTRY');
  const baseImage = service('LOLPOP_TEST_BASE_IMAGE');
  if (!registry || !baseImage) return undefined;
  return {
    registry,
    baseImage,
    busybox: process.env.LOLPOP_TEST_BUSYBOX_IMAGE ?? 'local/busybox:1',
    credentials: { username: process.env.LOLPOP_TEST_REGISTRY_USER ?? '', password: process.env.LOLPOP_TEST_REGISTRY_PASSWORD ?? '' },
  };
}

/** An environment with its own empty Docker config: no credentials but the ones a test gives. */
export function cleanDockerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const config = tempDir('docker-config');
  return { ...process.env, DOCKER_CONFIG: config, ...extra };
}

/** The quickstart example (a lolpop-style runner on the standard library) copied to a fresh directory. */
export function quickstartProject(): string {
  const dir = tempDir('quickstart');
  const example = path.resolve(import.meta.dirname, '../../examples/quickstart');
  for (const file of ['quickstart_runner.py', 'train.csv', 'test.csv', 'dev.yaml']) cpSync(path.join(example, file), path.join(dir, file));
  return dir;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

export const SHA = 'c0ffee0123456789abcdef0123456789abcdef01';
export const ci: CiContext = ciContext({ sha: SHA, shortSha: SHA.slice(0, 7), repository: 'acme/quickstart', runNumber: '7' });

/** The package step alone, as the orchestrators call it. */
export async function packageOnly(options: {
  dir: string;
  kwargs: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  registry?: { username: string; password: string };
}): Promise<{ result?: PackageResult; error?: Error; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  try {
    const result = await packageProject(
      resolvedFrom('PrefectOrchestrator', { package: PackageKwargs.parse(options.kwargs), deploy: DeployKwargs.parse({}) }, ci),
      {
        logger,
        exec: new ProcessExec(),
        fetch: globalThis.fetch,
        env: options.env,
        ci,
        workdir: options.dir,
        configFile: path.join(options.dir, 'lolpop.yaml'),
        registry: options.registry,
        buildImage: true,
      },
    );
    return { result, logger };
  } catch (error) {
    return { error: error as Error, logger };
  }
}

/** The whole pipeline, as the action runs it, with registry credentials from the inputs. */
export async function runPipelineIn(options: {
  dir: string;
  yaml: string;
  env: NodeJS.ProcessEnv;
  steps: string;
  registry?: { username: string; password: string };
}): Promise<{ result: PipelineResult; logger: MemoryLogger }> {
  const file = path.join(options.dir, 'lolpop.yaml');
  writeFileSync(file, options.yaml);
  const logger = new MemoryLogger();
  const config = loadConfigSync(file, {}, orchestratorLookup, options.env);
  const orchestrator = await createOrchestrator(config.orchestrator, config.orchestratorConfig, {
    logger,
    exec: new ProcessExec(),
    fetch: globalThis.fetch,
    env: options.env,
    ci,
    workdir: options.dir,
    configFile: file,
    registry: options.registry,
  });
  const result = await runPipeline(resolvedOf(config, {}, ci), parseSteps(options.steps), orchestrator, logger);
  return { result, logger };
}

/** The digest the registry serves for a tag (what a puller gets), via its HTTP API. */
export async function registryDigest(registry: string, image: string, auth: { username: string; password: string }): Promise<string | null> {
  const [repo, tag] = [image.slice(registry.length + 1, image.lastIndexOf(':')), image.slice(image.lastIndexOf(':') + 1)];
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
      accept: [
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
      ].join(', '),
    },
  });
  if (!res.ok) throw new Error(`HEAD manifest ${repo}:${tag}: ${res.status}`);
  return res.headers.get('docker-content-digest');
}

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * The HostConfig of the one container a prefect-docker worker created for a flow run (its
 * label io.prefect.flow-run-id; the CI pools' templates keep containers: auto_remove false),
 * which is then removed: what Docker was really told, for deploy.resources.
 */
export function flowRunHostConfig(runId: string): Record<string, unknown> {
  const ids = docker('ps', '-aq', '--filter', `label=io.prefect.flow-run-id=${runId}`).split('\n').filter(Boolean);
  try {
    if (ids.length !== 1) throw new Error(`expected one container of flow run ${runId}, found ${ids.length}`);
    return JSON.parse(docker('container', 'inspect', '--format', '{{json .HostConfig}}', ids[0]!)) as Record<string, unknown>;
  } finally {
    for (const id of ids) docker('rm', '-f', id);
  }
}
