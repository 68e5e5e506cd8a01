import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { cleanDockerEnv, dockerServices, flowRunHostConfig, runPipelineIn } from '../docker/helpers.js';
import { prefectApi } from '../helpers/pipeline.js';
import { service } from '../helpers/services.js';
import { copyExample } from '../local/example.js';

const services = dockerServices();
const prefect2 = service('LOLPOP_TEST_PREFECT2_URL');
// A Prefect 2 docker pool and worker on the Prefect 2 server, and the default base image
// (prefecthq/prefect:2-python3.11) built locally under that name: nothing can be pulled here.
const pool = service('LOLPOP_TEST_DOCKER_POOL_2');
const defaultBase = service('LOLPOP_TEST_LOLPOP_BASE_IMAGE');

/**
 * examples/lolpop-quickstart from the default generated Dockerfile (the default base image,
 * lolpop 0.2.0 installed by its install line), run by a real Prefect 2 docker worker with
 * lolpop's own `decorator: PrefectOrchestrator` inside the container.
 */
describe.skipIf(!services || !prefect2 || !pool || !defaultBase)('the default image runs a real lolpop workflow on a Prefect 2 docker pool', () => {
  /** The image the first test built, which the second deploys again. */
  let image = '';
  it('package checks the image (lolpop 0.2.0, Prefect 2 like the server), deploy and run reach COMPLETED', async () => {
    const uid = randomUUID().slice(0, 8);
    const dir = copyExample('lolpop-quickstart');
    const config = parse(readFileSync(path.join(dir, 'quickstart-prefect.yaml'), 'utf8')) as {
      orchestrator: { deployment: Record<string, Record<string, unknown>> };
    };
    const deployment = config.orchestrator.deployment;
    expect(deployment.package!.base_image).toBeUndefined(); // the default one
    deployment.name = `lolpop-docker-${uid}` as never;
    deployment.type = 'docker' as never;
    deployment.package = { ...deployment.package, docker_image_tag: `ci/lolpop-quickstart-${uid}:{short_sha}`, docker_kwargs: ['--network', 'host'] };
    // The worker shares this Docker engine: run the image built here, pull nothing.
    deployment.deploy = { work_pool: pool, job_variables: { image_pull_policy: 'Never' } };
    deployment.run = { parameters: { min_accuracy: 0.9 }, wait: true, wait_timeout: '300s', poll_interval: '1s' };

    const { result, logger } = await runPipelineIn({ dir, yaml: stringify(config), env: cleanDockerEnv({ PREFECT_API_URL: prefect2 }), steps: 'package,deploy,run' });
    const log = logger.lines.join('\n');
    expect(result.error, log.slice(-4000)).toBeUndefined();
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain(`FROM ${defaultBase}\n`);
    expect(log).toMatch(/: Python 3\.11\.\d+, Prefect 2\.20\.27, lolpop 0\.2\.0; server Prefect 2\.20\.27/);
    expect(result.run!.state).toBe('COMPLETED');
    // lolpop's decorator ran in the container: its components became Prefect tasks.
    const tasks = await prefectApi<Array<{ name: string; state: { type: string } }>>(prefect2!, 'POST', 'task_runs/filter', {
      flow_runs: { id: { any_: [result.run!.id] } },
    });
    expect(tasks.map((t) => t.state.type)).toEqual(['COMPLETED', 'COMPLETED']);
    image = result.packaged!.image!;
  });

  it('prefect-docker 0.5.5 (the Prefect 2 worker) gives its container deploy.resources as Docker\'s limits (docker inspect); the run COMPLETES', async () => {
    expect(image).not.toBe('');
    const dir = copyExample('lolpop-quickstart');
    const config = parse(readFileSync(path.join(dir, 'quickstart-prefect.yaml'), 'utf8')) as {
      orchestrator: { deployment: Record<string, Record<string, unknown>> };
    };
    const deployment = config.orchestrator.deployment;
    deployment.name = `lolpop-docker-res-${randomUUID().slice(0, 8)}` as never;
    deployment.type = 'docker' as never;
    deployment.deploy = {
      work_pool: pool,
      docker_image_name: image, // the first test's image: no second build
      job_variables: { image_pull_policy: 'Never' },
      resources: { cpu: { limit: '1500m' }, memory: { request: '256Mi', limit: '2Gi' } },
    };
    deployment.run = { parameters: { min_accuracy: 0.9 }, wait: true, wait_timeout: '300s', poll_interval: '1s' };
    const { result, logger } = await runPipelineIn({ dir, yaml: stringify(config), env: cleanDockerEnv({ PREFECT_API_URL: prefect2 }), steps: 'deploy,run' });
    expect(result.error, logger.lines.join('\n').slice(-4000)).toBeUndefined();
    expect(result.run!.state).toBe('COMPLETED');
    expect(flowRunHostConfig(result.run!.id)).toMatchObject({ NanoCpus: 1_500_000_000, Memory: 2_147_483_648, MemoryReservation: 268_435_456 });
  });
});
