import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowRunJob } from '../../src/orchestrators/prefect/kubernetes/flow-run-pods.js';
import { BUNDLE, runActionWithRegistry, type ActionRun } from '../helpers/run-action.js';
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
      };
}

const RUNNER_PY = `
class PoolRunner:
    def __init__(self, conf, skip_config_validation=False):
        self.conf = conf

    def build_all(self, **params):
        if params.get("explode"):
            raise ValueError(f"exploded as asked with {params}")
        print(f"pool runner built with {params}")
`;

const SLOW = 600_000;

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

  function project(options: { name: string; parameters: string; deploy?: string }): string {
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
      wait: true
      wait_timeout: 240s
      poll_interval: 1s
`,
    );
    return dir;
  }

  /** The pods of a flow run's Job, found as the worker recorded it (read as deploy reads it). */
  async function podsOfRun(runId: string): Promise<PodJson[]> {
    const run = await prefectApi<{ infrastructure_pid: string }>(m.apiUrl!, 'GET', `flow_runs/${runId}`);
    const job = flowRunJob(run.infrastructure_pid);
    expect(job, `infrastructure_pid ${run.infrastructure_pid}`).toMatchObject({ namespace: m.namespace });
    const list = await k8s!.client.get<{ items: PodJson[] }>(`/api/v1/namespaces/${job!.namespace}/pods?labelSelector=${encodeURIComponent(`job-name=${job!.job}`)}`);
    return list!.items;
  }

  describe.skipIf(!node24 || !m.apiUrl || !m.pool || !m.namespace || !m.baseImage || !k8s || !docker)(
    `a Prefect ${major} kubernetes work pool on a real cluster (${m.worker} worker)`,
    () => {
      const action = (dir: string): Promise<ActionRun> =>
        runActionWithRegistry({
          node: node24!,
          cwd: dir,
          steps: 'package,deploy,run',
          credentials: docker!.credentials,
          env: { KUBECONFIG: k8s!.kubeconfig, DOCKER_CONFIG: tempDir('docker-config') },
        });

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
    },
  );
}
