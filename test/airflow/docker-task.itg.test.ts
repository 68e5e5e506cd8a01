import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfigSync } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/logger.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { runConfig } from '../../src/run-config.js';
import { parseSteps } from '../../src/steps.js';
import { ci, cleanDockerEnv, docker, dockerServices } from '../docker/helpers.js';
import { service, tempDir } from '../helpers/services.js';
import { copyExample } from '../local/example.js';
import { airflowCall, airflowEnv, airflowGet, airflowService } from './helpers.js';

const airflow = airflowService();
const services = dockerServices();
// prefecthq/prefect:2-python3.11 as docker-services.sh builds it (nothing can be pulled
// here): Python 3.11 with lolpop 0.2.0, the generated Dockerfile's default base image.
const lolpopBase = service('LOLPOP_TEST_LOLPOP_BASE_IMAGE');
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };

interface LogEvents {
  content: Array<{ event?: string } | string>;
}

/** The task log's text, as the server gives it. */
async function taskLog(dagId: string, runId: string): Promise<string> {
  const log = await airflowGet<LogEvents>(airflow!, `dags/${dagId}/dagRuns/${encodeURIComponent(runId)}/taskInstances/build_all/logs/1?full_content=true`);
  return log.body.content.map((e) => (typeof e === 'string' ? e : (e.event ?? ''))).join('\n');
}

/**
 * examples/lolpop-quickstart with task: docker. The real chain: package builds the image
 * from the generated Dockerfile (FROM the lolpop 0.2.0 base) and pushes it to the
 * registry with htpasswd auth; the local copy is then removed, so the Airflow worker's
 * DockerOperator must log in with the Airflow connection and pull it, and run it on the
 * real engine with host networking (there is no bridge here). A read-only bind mount and
 * PYTHONPATH from docker.environment put a `prefect` package that refuses to import in
 * front of the image's: the runner runs without Prefect.
 */
describe.skipIf(!airflow || !services || !lolpopBase)('AirflowOrchestrator task: docker, against a real Airflow 3 and a real Docker engine', () => {
  const uid = randomUUID().slice(0, 8);
  const connection = `lolpop-registry-${uid}`;
  const name = `lolpop-quickstart-docker-${uid}`;
  const image = `${services?.registry}/ci/airflow-quickstart-${uid}:${ci.shortSha}`;
  let dir = '';
  let blocker = '';

  /** The same core the action and the CLI run, with registry credentials from the inputs. */
  async function steps(list: string, yaml: string, runKwargs?: Record<string, unknown>) {
    const file = path.join(dir, 'lolpop.yaml');
    writeFileSync(file, yaml);
    const env = cleanDockerEnv({ ...airflowEnv(airflow!), AIRFLOW_DAGS_FOLDER: airflow!.dagsFolder });
    const config = loadConfigSync(file, { ...AIRFLOW, ...(runKwargs ? { kwargs: { run: runKwargs } } : {}) }, orchestratorLookup, env);
    const logger = new MemoryLogger();
    const result = await runConfig(config, parseSteps(list), { logger, env, ci, workdir: dir, registry: services!.credentials });
    return { result, log: logger.lines.join('\n') };
  }

  beforeAll(async () => {
    // What a user does once on the Airflow side: a docker connection to the private registry.
    const [host, port] = services!.registry.split(':');
    const status = await airflowCall(airflow!, 'POST', 'connections', {
      connection_id: connection,
      conn_type: 'docker',
      host,
      port: Number(port),
      login: services!.credentials.username,
      password: services!.credentials.password,
    });
    expect(status).toBe(201);
    dir = copyExample('lolpop-quickstart');
    blocker = tempDir('no-prefect');
    mkdirSync(path.join(blocker, 'prefect'));
    writeFileSync(path.join(blocker, 'prefect', '__init__.py'), 'raise ImportError("lolpop-deploy test: Prefect is blocked in this container")\n');
  });

  afterAll(async () => {
    if (!airflow || !services) return;
    await airflowCall(airflow, 'DELETE', `connections/${connection}`);
    for (const id of docker('ps', '-aq', '--filter', `ancestor=${image}`).split('\n').filter(Boolean)) docker('rm', '-f', id);
    try {
      docker('image', 'rm', image);
    } catch {
      // already gone
    }
  });

  /** The quickstart config with task: docker; `over`: DockerOperator settings and deploy.resources to add. */
  function quickstartYaml(over: { docker?: Record<string, unknown>; resources?: Record<string, unknown> } = {}): string {
    const config = parse(readFileSync(path.join(dir, 'quickstart-airflow.yaml'), 'utf8')) as {
      orchestrator: { config: Record<string, unknown>; deployment: Record<string, Record<string, unknown> | string> };
    };
    config.orchestrator.config = {
      parse_timeout: '2m',
      task: 'docker',
      docker: {
        network_mode: 'host',
        docker_conn_id: connection,
        mounts: [{ type: 'bind', source: blocker, target: '/opt/no-prefect', read_only: true }],
        // The generated Dockerfile's PYTHONPATH is /opt/prefect (the WORKDIR); the blocker goes first.
        environment: { PYTHONPATH: '/opt/no-prefect:/opt/prefect' },
        ...over.docker,
      },
    };
    const deployment = config.orchestrator.deployment;
    deployment.name = name;
    deployment.package = {
      ...(deployment.package as Record<string, unknown>),
      package_type: 'docker', // the default base image
      // Already satisfied by that image: the RUN pip layer downloads nothing. The default
      // line's [mlflow,xgboost] extras would download ~400 MB (over a minute) on every build.
      lolpop_install_location: 'lolpop==0.2.0',
      docker_image_tag: `${services!.registry}/ci/airflow-quickstart-${uid}:{short_sha}`,
      push_image: true,
      docker_kwargs: ['--network', 'host'],
    };
    deployment.run = { parameters: { min_accuracy: 0.9 }, wait: true, wait_timeout: '300s', poll_interval: '1s' };
    if (over.resources) deployment.deploy = { ...(deployment.deploy as Record<string, unknown> | undefined), resources: over.resources };
    return stringify(config);
  }

  it('plan shows the image build and the DockerOperator; package builds and pushes; the worker pulls it with the connection and the run reaches COMPLETED', async () => {
    const yaml = quickstartYaml();
    const planned = await steps('plan', yaml);
    expect(planned.result.error).toBeUndefined();
    expect(planned.log).toContain(`build ${image} from Dockerfile and push it to ${services!.registry}`);
    expect(planned.log).toContain(`its task: a DockerOperator running the runner in ${image} (network_mode host, registry login with connection ${connection}, auto_remove force, 1 mount)`);

    const started = Date.now();
    const packaged = await steps('package', yaml);
    expect(packaged.result.error, packaged.log.slice(-3000)).toBeUndefined();
    expect(packaged.result.packaged?.image).toBe(image);
    expect(packaged.result.packaged?.digest).toMatch(/^sha256:/);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain(`FROM ${lolpopBase}\n`);
    expect(packaged.log).toMatch(/: Python 3\.11\.\d+, Prefect [\d.]+, lolpop 0\.2\.0/);
    // The DAG package wrote for review names the image it runs.
    expect(readFileSync(path.join(dir, 'prefect_files', 'airflow', `${name}.py`), 'utf8')).toContain(`IMAGE = "${image}"`);
    const packageSeconds = (Date.now() - started) / 1000;

    // The blocker works in this image: with it, `import prefect` fails.
    const blocked = spawnSync('docker', ['run', '--rm', '--network', 'host', '-v', `${blocker}:/opt/no-prefect:ro`, '-e', 'PYTHONPATH=/opt/no-prefect:/opt/prefect', image, 'python', '-c', 'import prefect'], { encoding: 'utf8' });
    expect(blocked.stderr).toContain('ImportError: lolpop-deploy test: Prefect is blocked in this container');

    // Only the registry has it now: the worker must log in and pull.
    docker('image', 'rm', image);
    const ran = await steps('deploy,run', yaml);
    expect(ran.result.error, ran.log.slice(-3000)).toBeUndefined();
    expect(ran.result.run?.state).toBe('COMPLETED');
    console.info(`task: docker quickstart: package ${packageSeconds.toFixed(1)} s, deploy+run+wait ${((Date.now() - started) / 1000 - packageSeconds).toFixed(1)} s`);

    const run = await airflowGet<{ state: string; conf: unknown }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(ran.result.run!.id)}`);
    expect(run.body).toMatchObject({ state: 'success', conf: { min_accuracy: 0.9 } });
    const log = await taskLog(name, ran.result.run!.id);
    expect(log).toContain('Login into Docker Registry');
    expect(log).toContain(`Pulling docker image ${image}`);
    // lolpop-deploy's launcher ran the runner directly with the conf: no Prefect flow.
    expect(log).toContain(`lolpop-deploy: QuickstartRunner(conf='quickstart-airflow.yaml').build_all(**{"min_accuracy": 0.9})`);
    expect(log).not.toContain('running the Prefect flow');
    expect(docker('image', 'inspect', '-f', '{{.Id}}', image)).toMatch(/^sha256:/);
    // auto_remove (force, the default) removed the container.
    expect(docker('ps', '-aq', '--filter', `ancestor=${image}`)).toBe('');
  });

  it('a failing container task: FAILED, naming the task, the runner\'s exception and the log tail; the container is removed', async () => {
    const failed = await steps('run', quickstartYaml(), { min_accuracy: 0.99 });
    expect(failed.result.run?.state).toBe('FAILED');
    const message = failed.result.error?.message ?? '';
    expect(message).toMatch(/ended FAILED: task build_all failed: \S*Error: .*Test accuracy 0\.950 is below min_accuracy 0\.990\.? \(exit code 1\)/);
    expect(message).toMatch(/Last log lines of build_all:\n[\s\S]*Test accuracy 0\.950 is below min_accuracy 0\.990/);
    expect(message).toContain(`/dags/${name}/runs/`);
    const server = await airflowGet<{ state: string; conf: unknown }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(failed.result.run!.id)}`);
    expect(server.body).toMatchObject({ state: 'failed', conf: { min_accuracy: 0.99 } });
    // Its output is in the task log, so the failed container is not kept either.
    expect(docker('ps', '-aq', '--filter', `ancestor=${image}`)).toBe('');
  });

  it('deploy.resources become the limits of the container the DockerOperator created (docker inspect); the run COMPLETES under them', async () => {
    // auto_remove never: the container stays for docker inspect (removed below).
    const yaml = quickstartYaml({ docker: { auto_remove: 'never' }, resources: { cpu: { request: '250m', limit: '500m' }, memory: { request: '128Mi', limit: '1Gi' } } });
    const ran = await steps('deploy,run', yaml);
    expect(ran.result.error, ran.log.slice(-3000)).toBeUndefined();
    expect(ran.result.run?.state).toBe('COMPLETED');
    const ids = docker('ps', '-aq', '--filter', `ancestor=${image}`).split('\n').filter(Boolean);
    try {
      expect(ids).toHaveLength(1);
      const limits = JSON.parse(docker('container', 'inspect', '--format', '{{json .HostConfig}}', ids[0]!)) as Record<string, unknown>;
      // NanoCpus and MemoryReservation through the DAG's subclass, Memory as DockerOperator's mem_limit.
      expect(limits).toMatchObject({ NanoCpus: 500_000_000, Memory: 1_073_741_824, MemoryReservation: 134_217_728 });
      expect(limits.DeviceRequests ?? null).toBeNull();
    } finally {
      for (const id of ids) docker('rm', '-f', id);
    }
  });

  it('a GPU on an engine without one: the run FAILS with Docker\'s own reason, and no container is left', async () => {
    const ran = await steps('deploy,run', quickstartYaml({ resources: { gpu: { count: 1 } } }));
    expect(ran.result.run?.state).toBe('FAILED');
    // The exception the task failed with, in the error's first line: docker-py's APIError quoting the engine.
    expect(ran.result.error?.message.split('\n')[0]).toMatch(
      /ended FAILED: task build_all failed: APIError: 500 Server Error for http\+docker:\/\/\S+\/start: Internal Server Error \("could not select device driver "" with capabilities: \[\[gpu\]\]"\)/,
    );
    expect(docker('ps', '-aq', '--filter', `ancestor=${image}`)).toBe('');
  });

  it('a key one Docker engine cannot honour is refused by name, before anything is deployed', async () => {
    const planned = await steps('plan', quickstartYaml({ resources: { service_account: 'trainer' } }));
    expect(planned.result.error?.message).toMatch(
      /^orchestrator\.deployment\.deploy\.resources cannot be honoured by Airflow task: docker \(the DockerOperator's container\): orchestrator\.deployment\.deploy\.resources\.service_account: /,
    );
  });

  it('Airflow parsed the DAG as one DockerOperator task', async () => {
    await steps('deploy', quickstartYaml());
    const tasks = await airflowGet<{ tasks: Array<{ task_id: string; operator_name: string }> }>(airflow!, `dags/${name}/tasks`);
    expect(tasks.body.tasks.map((t) => [t.task_id, t.operator_name])).toEqual([['build_all', 'DockerOperator']]);
  });
});
