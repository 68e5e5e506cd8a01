import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowRunJob } from '../../src/orchestrators/prefect/kubernetes/flow-run-pods.js';
import { BUNDLE, runActionWithRegistry, type ActionRun } from '../helpers/run-action.js';
import { runBundledCli } from '../helpers/run-cli.js';
import { service, tempDir } from '../helpers/services.js';
import { prefectApi } from '../helpers/pipeline.js';
import { dockerServices } from '../docker/helpers.js';
import { k8sServices, type PodJson } from './cluster.js';

/**
 * What differs between the Prefect majors a kubernetes pool is tested on; the rest of the
 * suite is one. Each major has its own server, worker (scripts/prefect-k8s-worker.sh with
 * LOLPOP_PREFECT_K8S_MAJOR), pool and namespace, and an image of its Prefect.
 */
interface Major {
  major: 2 | 3;
  worker: string;
  apiUrl: string | undefined;
  pool: string | undefined;
  namespace: string | undefined;
  baseImage: string | undefined;
  /** How the engine of that major words a flow that raised. */
  raised: string;
  /** Where a deployment's job variables are in the server's answer (Prefect 2.20: its older name). */
  jobVariables: 'job_variables' | 'infra_overrides';
  /** How the server shows a paused deployment (2.20 keeps the old schedule flag in step). */
  paused: Record<string, boolean>;
}

function majorOf(major: 2 | 3): Major {
  const docker = dockerServices();
  return major === 3
    ? {
        major,
        worker: 'prefect-kubernetes 0.8.0',
        apiUrl: service('LOLPOP_TEST_PREFECT_URL'),
        pool: service('LOLPOP_TEST_PREFECT_K8S_POOL'),
        namespace: service('LOLPOP_TEST_PREFECT_K8S_NAMESPACE'),
        baseImage: docker?.baseImage,
        raised: 'Flow run encountered an exception: ValueError',
        jobVariables: 'job_variables',
        paused: { paused: true },
      }
    : {
        major,
        worker: 'prefect-kubernetes 0.4.6',
        apiUrl: service('LOLPOP_TEST_PREFECT2_URL'),
        pool: service('LOLPOP_TEST_PREFECT2_K8S_POOL'),
        namespace: service('LOLPOP_TEST_PREFECT2_K8S_NAMESPACE'),
        // prefecthq/prefect:2-python3.11 as scripts/docker-services.sh builds it (Prefect 2.20, lolpop 0.2.0).
        baseImage: service('LOLPOP_TEST_LOLPOP_BASE_IMAGE'),
        raised: 'Flow run encountered an exception. ValueError',
        jobVariables: 'infra_overrides',
        paused: { paused: true, is_schedule_active: false },
      };
}

const RUNNER_PY = `
import time

class PoolRunner:
    def __init__(self, conf, skip_config_validation=False):
        self.conf = conf

    def build_all(self, **params):
        if params.get("explode"):
            raise ValueError(f"exploded as asked with {params}")
        if params.get("sleep"):
            # A long-running flow, for stop's cancel_runs to find its pod Running.
            print(f"pool runner sleeping {params['sleep']} s", flush=True)
            time.sleep(params["sleep"])
        print(f"pool runner built with {params}")
`;

const SLOW = 600_000;

/** The flow every deployment here runs: the generated entrypoint's (package's default flow name). */
const FLOW = 'prefect-entrypoint';

/**
 * A real prefect-kubernetes worker polls the kubernetes work pool of the Prefect server of
 * `major` and turns each flow run into a Job on the cluster of scripts/k8s-services.sh; the
 * Job's pod pulls the image package pushed to the authenticated registry (the pool
 * template's pull Secret). Driven by the bundled action under Node 24.
 */
export function prefectPoolSuite(major: 2 | 3): void {
  const m = majorOf(major);
  const node24 = service('LOLPOP_TEST_NODE24');
  const k8s = k8sServices();
  const docker = dockerServices();
  const uid = randomUUID().slice(0, 6);
  const image = `${docker?.registry}/lolpop-k8s-pool${major}:${uid}`;

  function project(options: { name: string; parameters: string; deploy?: string; wait?: boolean }): string {
    const dir = tempDir('k8s-pool');
    writeFileSync(path.join(dir, 'pool_runner.py'), RUNNER_PY);
    writeFileSync(
      path.join(dir, 'lolpop.yaml'),
      `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${m.apiUrl}"}
  deployment:
    name: ${options.name}
    type: docker
    package:
      lolpop_class: PoolRunner
      lolpop_module: pool_runner
      copy_files: [pool_runner.py]
      base_image: ${m.baseImage}
      lolpop_install_location: ""
      docker_image_tag: "${image}"
      push_image: true
      docker_kwargs: [--network, host]
    deploy:
      work_pool: ${m.pool}
      resources:
        cpu: {request: 100m, limit: "1"}
        memory: {request: 128Mi, limit: 1Gi}
        node_selector: {kubernetes.io/os: linux}
        tolerations: [{key: lolpop.dev/ci, operator: Exists, effect: NoSchedule}]
${options.deploy ?? ''}
    run:
      parameters: ${options.parameters}
      wait: ${options.wait ?? true}
      wait_timeout: 240s
      poll_interval: 1s
`,
    );
    return dir;
  }

  /** A flow run's Job, as the worker recorded it (read as deploy reads it). */
  async function jobOfRun(runId: string): Promise<{ namespace: string; job: string }> {
    const run = await prefectApi<{ infrastructure_pid: string }>(m.apiUrl!, 'GET', `flow_runs/${runId}`);
    const job = flowRunJob(run.infrastructure_pid);
    expect(job, `infrastructure_pid ${run.infrastructure_pid}`).toMatchObject({ namespace: m.namespace });
    return job!;
  }

  /** The pods of a flow run's Job. */
  async function podsOfRun(runId: string): Promise<PodJson[]> {
    const { namespace, job } = await jobOfRun(runId);
    const list = await k8s!.client.get<{ items: PodJson[] }>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(`job-name=${job}`)}`);
    return list!.items;
  }

  const flowRun = (runId: string) => prefectApi<{ state: { type: string; message: string | null } }>(m.apiUrl!, 'GET', `flow_runs/${runId}`);

  describe.skipIf(!node24 || !m.apiUrl || !m.pool || !m.namespace || !m.baseImage || !k8s || !docker)(
    `a Prefect ${major} kubernetes work pool on a real cluster (${m.worker} worker)`,
    () => {
      const action = (dir: string, steps = 'package,deploy,run'): Promise<ActionRun> =>
        runActionWithRegistry({
          node: node24!,
          cwd: dir,
          steps,
          credentials: docker!.credentials,
          env: { KUBECONFIG: k8s!.kubeconfig, DOCKER_CONFIG: tempDir('docker-config') },
        });
      /** The bundled CLI in `dir` (stop, and run after it), with the runner's kubeconfig; stdout and stderr as one. */
      const cli = async (dir: string, args: string[]): Promise<{ code: number | null; out: string }> => {
        const run = await runBundledCli(args, dir, { KUBECONFIG: k8s!.kubeconfig });
        return { code: run.code, out: run.stdout + run.stderr };
      };
      const readDeployment = (id: string) => prefectApi<Record<string, unknown>>(m.apiUrl!, 'GET', `deployments/${id}`);

      beforeAll(() => {
        expect(existsSync(BUNDLE), 'dist/ must be built (npm run bundle)').toBe(true);
      });

      afterAll(() => k8s?.client.close());

      it('package → deploy → run: the worker creates the Job, its pod runs the pushed image with deploy.resources, the flow run COMPLETED', async () => {
        const run = await action(project({ name: `pool-ok-${uid}`, parameters: '{epochs: 2}' }));
        expect(run.status, run.log).toBe(0);
        expect(run.outputs['flow-run-state']).toBe('COMPLETED');
        const flowRun = await prefectApi<{ state_type: string; deployment_id: string; work_pool_name: string }>(m.apiUrl!, 'GET', `flow_runs/${run.outputs['flow-run-id']}`);
        expect(flowRun).toMatchObject({ state_type: 'COMPLETED', deployment_id: run.outputs['deployment-id'], work_pool_name: m.pool });
        const version = await prefectApi<string>(m.apiUrl!, 'GET', 'admin/version');
        expect(version.split('.')[0]).toBe(String(major));
        const deployment = await prefectApi<Record<string, unknown>>(m.apiUrl!, 'GET', `deployments/${run.outputs['deployment-id']}`);
        expect(deployment[m.jobVariables]).toMatchObject({
          cpu_request: '100m',
          cpu_limit: '1',
          memory_request: '128Mi',
          memory_limit: '1Gi',
          node_selector: { 'kubernetes.io/os': 'linux' },
        });
        // The run is COMPLETED before its process has exited: the pod then ends Succeeded.
        await expect.poll(async () => (await podsOfRun(run.outputs['flow-run-id']!)).map((p) => p.status.phase), { timeout: 60_000, interval: 1000 }).toEqual(['Succeeded']);
        const pod = (await podsOfRun(run.outputs['flow-run-id']!))[0]!;
        expect(pod.spec.containers[0]!.image).toBe(image);
        expect(pod.spec.imagePullSecrets).toEqual([{ name: 'lolpop-registry' }]);
        expect(pod.spec.containers[0]!.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } });
        expect(pod.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
        expect(pod.spec.tolerations).toContainEqual({ key: 'lolpop.dev/ci', operator: 'Exists', effect: 'NoSchedule' });
      }, SLOW);

      it("a flow that raises ends FAILED with its exception (its pod completed: Prefect's engine exits 0 after reporting it)", async () => {
        const run = await action(project({ name: `pool-fail-${uid}`, parameters: '{explode: true}' }));
        expect(run.status).not.toBe(0);
        expect(run.outputs['flow-run-state']).toBe('FAILED');
        expect(run.log).toContain(`ended FAILED: ${m.raised}: exploded as asked with {'explode': True}`);
      }, SLOW);

      it("a container that exits non-zero before the flow starts: reported while the run is PENDING, with the pod's reason, exit code and log tail", async () => {
        const run = await action(
          project({
            name: `pool-crash-${uid}`,
            parameters: '{epochs: 1}',
            deploy: `      job_variables:\n        command: python -c 'raise SystemExit("the image has no flow here")'`,
          }),
        );
        expect(run.status).not.toBe(0);
        expect(run.outputs['flow-run-state'], run.log).toBe('PENDING');
        expect(run.log).toMatch(
          new RegExp(
            `Flow run \\S+ cannot start: Job ${m.namespace}/[a-z0-9-]+: pod [a-z0-9-]+, container prefect-job: Error \\(exit code 1\\); its last log lines:(%0A|\\n)the image has no flow here`,
          ),
        );
      }, SLOW);

      it('an image that cannot be pulled: the run cannot start, reported with the pod reason well within the wait timeout', async () => {
        const run = await action(project({ name: `pool-nopull-${uid}`, parameters: '{epochs: 1}', deploy: `      docker_image_name: ${docker!.registry}/lolpop-k8s-pool${major}:does-not-exist` }));
        expect(run.status).not.toBe(0);
        expect(run.log).toMatch(new RegExp(`Flow run \\S+ cannot start: Job ${m.namespace}/[a-z0-9-]+: pod [a-z0-9-]+, container prefect-job: (ErrImagePull|ImagePullBackOff)`));
      }, SLOW);

      it('stop (the CLI) pauses the pool deployment; a second stop says it already was; a run after it resumes it and COMPLETES', async () => {
        const name = `pool-pause-${uid}`;
        const dir = project({ name, parameters: '{epochs: 1}' });
        const deployed = await action(dir, 'package,deploy');
        expect(deployed.status, deployed.log).toBe(0);
        const id = deployed.outputs['deployment-id']!;
        expect(await readDeployment(id)).toMatchObject({ paused: false });

        const stop = await cli(dir, ['stop', '-c', 'lolpop.yaml']);
        expect(stop.code, stop.out).toBe(0);
        expect(stop.out).toContain(`Stop: paused deployment ${FLOW}/${name}\n`);
        expect(await readDeployment(id)).toMatchObject(m.paused);

        const again = await cli(dir, ['stop', '-c', 'lolpop.yaml']);
        expect(again.code, again.out).toBe(0);
        expect(again.out).toContain(`Stop: paused deployment ${FLOW}/${name} (it already was)`);

        // As docs/prefect.md says: a later run resumes a paused deployment, and the worker runs it.
        const run = await cli(dir, ['up', '-c', 'lolpop.yaml', '--steps', 'run']);
        expect(run.code, run.out).toBe(0);
        expect(run.out).toContain(`Deployment ${FLOW}/${name} was paused (by stop, or by its serving process shutting down): resumed`);
        expect(run.out).toMatch(/Flow run \S+: COMPLETED/);
        expect(await readDeployment(id)).toMatchObject({ paused: false });
      }, SLOW);

      it('stop with mode delete (the CLI): the deployment is gone from the server; a second stop is a notice, not an error', async () => {
        const name = `pool-delete-${uid}`;
        const dir = project({ name, parameters: '{epochs: 1}' });
        const deployed = await action(dir, 'package,deploy');
        expect(deployed.status, deployed.log).toBe(0);
        const id = deployed.outputs['deployment-id']!;

        const stop = await cli(dir, ['stop', '-c', 'lolpop.yaml', '--stop-kwargs', '{"mode": "delete"}']);
        expect(stop.code, stop.out).toBe(0);
        expect(stop.out).toContain(`Stop: deleted deployment ${FLOW}/${name}\n`);
        expect((await fetch(`${m.apiUrl}/deployments/${id}`)).status).toBe(404);

        const again = await cli(dir, ['stop', '-c', 'lolpop.yaml', '--stop-kwargs', '{"mode": "delete"}']);
        expect(again.code, again.out).toBe(0);
        expect(again.out).toContain(`warning: no deployment ${FLOW}/${name} on ${m.apiUrl}: nothing to stop`);
      }, SLOW);

      it("stop with cancel_runs (the CLI) while the flow's pod is Running: the pod's Prefect runner ends it CANCELLED and exits, the pod Succeeded", async () => {
        const name = `pool-cancel-${uid}`;
        const dir = project({ name, parameters: '{sleep: 600}', wait: false });
        const started = await action(dir);
        expect(started.status, started.log).toBe(0);
        const runId = started.outputs['flow-run-id']!;
        await expect.poll(() => flowRun(runId), { timeout: 120_000, interval: 1000 }).toMatchObject({ state: { type: 'RUNNING' } });
        await expect.poll(async () => (await podsOfRun(runId)).map((p) => p.status.phase), { timeout: 60_000, interval: 1000 }).toEqual(['Running']);

        const t0 = Date.now();
        const stop = await cli(dir, ['stop', '-c', 'lolpop.yaml', '--stop-kwargs', '{"cancel_runs": true, "cancel_timeout": "90s"}']);
        expect(stop.code, stop.out).toBe(0);
        expect(stop.out).toContain('waiting for 1 running flow run(s) to be cancelled');
        expect(stop.out).toContain(`Stop: cancelled 1 of 1 flow run(s); paused deployment ${FLOW}/${name}\n`);
        // Measured: 6 s (Prefect 3), 10 s (Prefect 2); the wait is bounded by cancel_timeout.
        expect(Date.now() - t0).toBeLessThan(90_000);
        // Neither worker kills a running flow's Job: the Prefect runner in the pod (`prefect
        // flow-run execute`) sees CANCELLING, kills the flow process, sets CANCELLED and exits 0.
        expect(await flowRun(runId)).toMatchObject({ state: { type: 'CANCELLED', message: 'Flow run was cancelled successfully.' } });
        await expect.poll(async () => (await podsOfRun(runId)).map((p) => p.status.phase), { timeout: 60_000, interval: 1000 }).toEqual(['Succeeded']);
        const { namespace, job } = await jobOfRun(runId);
        const kept = await k8s!.client.get<{ metadata: { deletionTimestamp?: string } }>(`/apis/batch/v1/namespaces/${namespace}/jobs/${job}`);
        expect(kept?.metadata.deletionTimestamp, 'the Job is kept, finished, as after any run').toBeUndefined();
      }, SLOW);

      it("stop with cancel_runs (the CLI) while the run's pod cannot pull its image: the Job is deleted and the run CANCELLED, not left CANCELLING", async () => {
        const name = `pool-cancel-pending-${uid}`;
        const dir = project({ name, parameters: '{epochs: 1}', wait: false, deploy: `      docker_image_name: ${docker!.registry}/lolpop-k8s-pool${major}:does-not-exist` });
        const started = await action(dir, 'deploy,run');
        expect(started.status, started.log).toBe(0);
        const runId = started.outputs['flow-run-id']!;
        // Without lolpop-deploy, this run stays CANCELLING: 0.4.6 leaves cancels to the Prefect runner the pod
        // never starts, for good; 0.8.0 (worker cancellation off by default) until the server's timeout, ~5 min.
        await expect
          .poll(async () => (await podsOfRun(runId).catch(() => [])).flatMap((p) => (p.status.containerStatuses ?? []).map((c) => c.state.waiting?.reason)), { timeout: 60_000, interval: 1000 })
          .toEqual([expect.stringMatching(/^(ErrImagePull|ImagePullBackOff)$/)]);
        const { namespace, job } = await jobOfRun(runId);

        const t0 = Date.now();
        const stop = await cli(dir, ['stop', '-c', 'lolpop.yaml', '--stop-kwargs', '{"cancel_runs": true, "cancel_timeout": "60s"}']);
        expect(stop.code, stop.out).toBe(0);
        expect(Date.now() - t0).toBeLessThan(30_000);
        const deleted = `deleted Job ${namespace}/${job}: its pod never started the flow (pod ${job}-`;
        expect(stop.out).toContain(` CANCELLED: ${deleted}`);
        expect(stop.out).toMatch(/its pod never started the flow \(pod [a-z0-9-]+, container prefect-job: (ErrImagePull|ImagePullBackOff)/);
        expect(stop.out).toContain(`Stop: cancelled 1 of 1 flow run(s); paused deployment ${FLOW}/${name}\n`);
        expect(await flowRun(runId)).toMatchObject({ state: { type: 'CANCELLED', message: expect.stringContaining(`Cancelled by lolpop-deploy: ${deleted}`) } });
        await expect
          .poll(async () => [await k8s!.client.get(`/apis/batch/v1/namespaces/${namespace}/jobs/${job}`), (await podsOfRun(runId)).length], { timeout: 60_000, interval: 1000 })
          .toEqual([undefined, 0]);
      }, SLOW);
    },
  );
}
