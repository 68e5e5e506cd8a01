import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { prefectApi } from '../helpers/pipeline.js';
import { service } from '../helpers/services.js';
import { cleanDockerEnv, docker, dockerServices, flowRunHostConfig, quickstartProject, registryDigest, runPipelineIn, SHA } from './helpers.js';

const services = dockerServices();
// The Prefect server the docker worker polls (scripts/docker-services.sh prints it).
const apiUrl = service('LOLPOP_TEST_DOCKER_PREFECT_URL');
const pool = service('LOLPOP_TEST_DOCKER_POOL');

/**
 * The whole path for real: package builds the quickstart image from the local Prefect
 * base image and pushes it (auth from the inputs); deploy registers it on the docker
 * work pool with the image as a job variable; the prefect-docker worker pulls it from
 * the registry (its own Docker login) and runs the lolpop-style generated entrypoint.
 */
describe.skipIf(!services || !apiUrl || !pool)('package → deploy → run on a Prefect docker work pool', () => {
  const { registry, baseImage, credentials } = services!;
  const uid = randomUUID().slice(0, 8);
  /** The image the resources test pushed, which the GPU test deploys again. */
  let image = '';

  /** `deploy`: more lines under deploy (indented 6). */
  const yaml = (name: string, minAccuracy: number, deploy = '') => `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${apiUrl}"}
  deployment:
    name: ${name}
    type: docker
    package:
      lolpop_class: QuickstartRunner
      lolpop_module: quickstart_runner
      lolpop_entrypoint: build_all
      copy_files: [quickstart_runner.py, train.csv, test.csv, dev.yaml]
      config_file: dev.yaml
      lolpop_install_location: ""      # the base image has Prefect; the runner needs only the stdlib
      base_image: ${baseImage}
      docker_image_tag: "${registry}/ci/quickstart-pool-${uid}:{short_sha}"
      docker_kwargs: [--network, host]
      push_image: true
    deploy:
      work_pool: ${pool}
      job_variables: {image_pull_policy: Always}   # pull from the registry, not the local copy
${deploy}    run:
      parameters: {min_accuracy: ${minAccuracy}}
      wait: true
      wait_timeout: 240s
      poll_interval: 1s
`;

  async function logsOf(runId: string): Promise<string[]> {
    const logs = await prefectApi<Array<{ message: string }>>(apiUrl!, 'POST', 'logs/filter', {
      logs: { flow_run_id: { any_: [runId] } },
      sort: 'TIMESTAMP_ASC',
      limit: 200,
    });
    return logs.map((l) => l.message);
  }

  it('the worker pulls the pushed image and the run ends COMPLETED, parameters reaching build_all', async () => {
    const { result, logger } = await runPipelineIn({
      dir: quickstartProject(),
      yaml: yaml(`ci-docker-${uid}`, 0.5),
      env: cleanDockerEnv(),
      steps: 'package,deploy,run',
      registry: credentials,
    });
    expect(result.error, logger.lines.slice(-30).join('\n')).toBeUndefined();
    expect(result.steps.map((s) => [s.step, s.status])).toEqual([
      ['package', 'success'],
      ['deploy', 'success'],
      ['run', 'success'],
      ['wait', 'success'],
    ]);
    const image = `${registry}/ci/quickstart-pool-${uid}:${SHA.slice(0, 7)}`;
    expect(result.packaged).toMatchObject({ image, entrypoint: 'prefect_files/run.py:prefect_entrypoint' });
    expect(result.packaged!.digest).toBe(await registryDigest(registry, image, credentials));
    const deployment = await prefectApi<Record<string, unknown>>(apiUrl!, 'GET', `deployments/${result.deployment!.id}`);
    expect(deployment).toMatchObject({
      work_pool_name: pool,
      entrypoint: 'prefect_files/run.py:prefect_entrypoint',
      job_variables: { image, image_pull_policy: 'Always' },
      pull_steps: [{ 'prefect.deployments.steps.set_working_directory': { directory: '/opt/prefect' } }],
    });
    expect(result.run!.state).toBe('COMPLETED');
    await expect.poll(async () => (await logsOf(result.run!.id)).join('\n'), { timeout: 20_000, interval: 500 }).toMatch(
      /Model accepted \(accuracy [0-9.]+ >= 0\.500\)/,
    );
  });

  it('deploy.resources become job variables the worker turns into the container\'s limits (docker inspect); the run COMPLETES under them', async () => {
    const resources = '      resources: {cpu: {request: 250m, limit: 500m}, memory: {request: 128Mi, limit: 1Gi}}\n';
    const { result, logger } = await runPipelineIn({
      dir: quickstartProject(),
      yaml: yaml(`ci-docker-res-${uid}`, 0.5, resources),
      env: cleanDockerEnv(),
      steps: 'package,deploy,run',
      registry: credentials,
    });
    expect(result.error, logger.lines.slice(-30).join('\n')).toBeUndefined();
    expect(result.run!.state).toBe('COMPLETED');
    const deployment = await prefectApi<Record<string, unknown>>(apiUrl!, 'GET', `deployments/${result.deployment!.id}`);
    expect(deployment).toMatchObject({
      job_variables: { image_pull_policy: 'Always', mem_limit: '1073741824', container_create_kwargs: { nano_cpus: 500_000_000, mem_reservation: 134_217_728 } },
    });
    const hostConfig = flowRunHostConfig(result.run!.id);
    expect(hostConfig).toMatchObject({ NanoCpus: 500_000_000, Memory: 1_073_741_824, MemoryReservation: 134_217_728 });
    expect(hostConfig.DeviceRequests ?? null).toBeNull();
    image = result.packaged!.image!;
  });

  it('a GPU on an engine without one: the run ends with Docker\'s own reason (the worker could not start the container)', async () => {
    const { result } = await runPipelineIn({
      dir: quickstartProject(),
      yaml: yaml(`ci-docker-gpu-${uid}`, 0.5, `      docker_image_name: ${image}\n      resources: {gpu: {count: 1}}\n`),
      env: cleanDockerEnv(),
      steps: 'deploy,run',
      registry: credentials,
    });
    const deployment = await prefectApi<Record<string, unknown>>(apiUrl!, 'GET', `deployments/${result.deployment!.id}`);
    expect(deployment).toMatchObject({ job_variables: { container_create_kwargs: { device_requests: [{ count: 1, capabilities: [['gpu']] }] } } });
    // prefect-docker 0.7.4 crashes the run with the APIError that quotes the engine.
    expect(result.run?.state).toBe('CRASHED');
    expect(result.error?.message.split('\n')[0]).toMatch(
      /Failed to submit flow run to infrastructure: APIError: 500 Server Error for http\+docker:\/\/\S+\/start: Internal Server Error \("could not select device driver "" with capabilities: \[\[gpu\]\]"\)/,
    );
    // The container it created but could not start is the worker's to keep or remove: remove it here.
    for (const id of docker('ps', '-aq', '--filter', `label=io.prefect.flow-run-id=${result.run!.id}`).split('\n').filter(Boolean)) docker('rm', '-f', id);
  });

  it('a run whose lolpop entrypoint raises ends FAILED with the reason', async () => {
    const { result } = await runPipelineIn({
      dir: quickstartProject(),
      yaml: yaml(`ci-docker-fail-${uid}`, 1.5),
      env: cleanDockerEnv(),
      steps: 'package,deploy,run',
      registry: credentials,
    });
    expect(result.run?.state).toBe('FAILED');
    expect(result.error?.message).toMatch(/ended FAILED: .*accuracy [0-9.]+ is below min_accuracy 1\.500/);
  });
});
