import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunEndedError, RunFailedError } from '../../src/errors.js';
import type { KubeApi } from '../../src/kubernetes/client.js';
import type { Pod } from '../../src/kubernetes/rollout.js';
import { MemoryLogger } from '../../src/logger.js';
import type { FlowRun, PrefectApi, WorkPool } from '../../src/orchestrators/prefect/api.js';
import { flowRunJob, jobPodProblem } from '../../src/orchestrators/prefect/kubernetes/flow-run-pods.js';
import { resourceJobVariables } from '../../src/orchestrators/prefect/kubernetes/job-variables.js';
import { waitForFlowRun } from '../../src/orchestrators/prefect/wait-for-run.js';

/** prefect-kubernetes 0.8.0's default base job template, the parts read here. */
const DEFAULT_VARIABLES = ['name', 'env', 'namespace', 'image', 'service_account_name', 'image_pull_policy', 'cpu_request', 'cpu_limit', 'memory_request', 'memory_limit'];
const limits = { cpu: '{{ cpu_limit }}', memory: '{{ memory_limit }}' };

/** That template, with `extra` variables declared and placed in the pod as docs/prefect.md shows. */
function pool(extra: string[] = [], gpuUnder?: string, type = 'kubernetes'): WorkPool {
  const placedIf = (name: string, key: string) => (extra.includes(name) ? { [key]: `{{ ${name} }}` } : {});
  return {
    name: 'lolpop-k8s',
    type,
    base_job_template: {
      variables: { properties: Object.fromEntries([...DEFAULT_VARIABLES, ...extra].map((v) => [v, {}])) },
      job_configuration: {
        job_manifest: {
          spec: {
            template: {
              spec: {
                serviceAccountName: '{{ service_account_name }}',
                ...placedIf('node_selector', 'nodeSelector'),
                ...placedIf('tolerations', 'tolerations'),
                containers: [
                  {
                    resources: {
                      requests: { cpu: '{{ cpu_request }}', memory: '{{ memory_request }}' },
                      limits: gpuUnder ? { ...limits, [gpuUnder]: '{{ gpu_limit }}' } : limits,
                    },
                  },
                ],
              },
            },
          },
        },
      },
    },
  };
}

/** prefect-kubernetes 0.4.6's default base job template (Prefect 2), as its worker wrote it. */
const PREFECT2_TEMPLATE = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../fixtures/prefect/kubernetes-0.4.6-base-job-template.json'), 'utf8'),
) as WorkPool['base_job_template'];

describe('deploy.resources on a Prefect kubernetes work pool: job variables', () => {
  it('every key maps onto the job variable the pool template places in the pod', () => {
    const variables = resourceJobVariables(
      {
        cpu: { request: '100m', limit: '1' },
        memory: { request: '128Mi', limit: '1Gi' },
        gpu: { count: 2, resource: 'nvidia.com/gpu' },
        node_selector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'lolpop.dev/ci', operator: 'Exists', effect: 'NoSchedule', toleration_seconds: 30 }],
        service_account: 'trainer',
      },
      pool(['gpu_limit', 'node_selector', 'tolerations'], 'nvidia.com/gpu'),
    );
    expect(variables).toEqual({
      cpu_request: '100m',
      cpu_limit: '1',
      memory_request: '128Mi',
      memory_limit: '1Gi',
      gpu_limit: '2',
      node_selector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'lolpop.dev/ci', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
      service_account_name: 'trainer',
    });
  });

  it("cpu, memory and service_account need nothing beyond prefect-kubernetes' default template", () => {
    expect(resourceJobVariables({ cpu: { request: '500m', limit: undefined }, service_account: 'sa' }, pool())).toEqual({
      cpu_request: '500m',
      service_account_name: 'sa',
    });
  });

  it('a key whose variable the pool lacks is refused by name, with what to add', () => {
    expect(() => resourceJobVariables({ node_selector: { a: 'b' }, tolerations: [] }, pool())).toThrow(
      "work pool 'lolpop-k8s' has no job variable for what deploy.resources asks (deploy.resources.node_selector needs 'node_selector'; deploy.resources.tolerations needs 'tolerations')",
    );
  });

  it("a variable declared but placed nowhere in the template would be dropped by the worker: refused by name", () => {
    const declaredOnly = pool(['node_selector']);
    const spec = (declaredOnly.base_job_template!.job_configuration as { job_manifest: { spec: { template: { spec: Record<string, unknown> } } } }).job_manifest.spec.template.spec;
    delete spec.nodeSelector;
    expect(() => resourceJobVariables({ node_selector: { a: 'b' } }, declaredOnly)).toThrow(
      "(deploy.resources.node_selector needs 'node_selector', declared but placed nowhere in job_configuration)",
    );
  });

  it("prefect-kubernetes 0.4.6's default template (Prefect 2) has no cpu or memory variables: refused by name; service_account maps", () => {
    const prefect2Pool: WorkPool = { name: 'lolpop-k8s2', type: 'kubernetes', base_job_template: PREFECT2_TEMPLATE };
    expect(() => resourceJobVariables({ cpu: { request: '100m', limit: '1' }, memory: { request: '128Mi', limit: undefined } }, prefect2Pool)).toThrow(
      "work pool 'lolpop-k8s2' has no job variable for what deploy.resources asks (deploy.resources.cpu needs 'cpu_request'; deploy.resources.cpu needs 'cpu_limit'; " +
        "deploy.resources.memory needs 'memory_request'; deploy.resources.memory needs 'memory_limit')",
    );
    expect(resourceJobVariables({ service_account: 'trainer' }, prefect2Pool)).toEqual({ service_account_name: 'trainer' });
  });

  it("a GPU the template puts under another vendor's resource name is refused, not sent under the wrong one", () => {
    expect(() => resourceJobVariables({ gpu: { count: 1, resource: 'nvidia.com/gpu' } }, pool(['gpu_limit'], 'amd.com/gpu'))).toThrow(
      `work pool 'lolpop-k8s' puts "{{ gpu_limit }}" under 'amd.com/gpu' in containers[0].resources.limits of its base job template; deploy.resources.gpu.resource is 'nvidia.com/gpu'`,
    );
  });

  it('a pool of another type, and env_from_secrets (plain-valued env), are refused by name', () => {
    expect(() => resourceJobVariables({ cpu: { request: '1', limit: undefined } }, pool([], undefined, 'process'))).toThrow(
      "deploy.resources (cpu) is honoured on kubernetes and docker work pools (as job variables) and by deployment.type kubernetes or docker without a pool; work pool 'lolpop-k8s' is a 'process' pool",
    );
    expect(() => resourceJobVariables({ env_from_secrets: { TOKEN: { secret: 's', key: 'k' } } }, pool())).toThrow(
      "deploy.resources.env_from_secrets cannot reach a Prefect work pool's pods",
    );
  });

  it('an offline plan (pool unknown) maps them unchecked', () => {
    expect(resourceJobVariables({ node_selector: { a: 'b' } }, undefined)).toEqual({ node_selector: { a: 'b' } });
  });
});

/** A Job's one pod; logs answer `log`. */
function cluster(pod: Pod, log = ''): KubeApi & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    apply: async (o) => o,
    mergePatch: async () => true,
    delete: async () => true,
    async get<T>(p: string) {
      paths.push(p);
      return { items: [pod] } as T;
    },
    async text(p: string) {
      paths.push(p);
      return log;
    },
  };
}

const jobPod = (status: Pod['status']): Pod => ({ metadata: { name: 'run-x-abcde', namespace: 'lolpop-pool' }, status });

describe("a flow run's Job pods: the reason a run on a kubernetes pool fails", () => {
  it("the Job is the worker's infrastructure_pid: `<namespace>:<job>` (0.8, Prefect 3) or `<cluster uid>:<namespace>:<job>` (0.4, Prefect 2)", () => {
    expect(flowRunJob('lolpop-pool:run-x')).toEqual({ namespace: 'lolpop-pool', job: 'run-x' });
    // As prefect-kubernetes 0.4.6 wrote it on the test cluster (the kube-system namespace's UID).
    expect(flowRunJob('810728a1-a7c7-4cc9-90c5-3b40280cfc42:lolpop-pool2:deft-coyote-bs989')).toEqual({ namespace: 'lolpop-pool2', job: 'deft-coyote-bs989' });
    expect(flowRunJob(undefined)).toBeUndefined();
    // Not a Job: a Runner's `host_1:pid`, one field too many, an upper-case namespace.
    expect(flowRunJob('Runner_1:4242')).toBeUndefined();
    expect(flowRunJob('uid:ns:job:x')).toBeUndefined();
    expect(flowRunJob('uid:Lolpop:run-x')).toBeUndefined();
  });

  it('an image that cannot be pulled, in the pod status own words', async () => {
    const api = cluster(jobPod({ containerStatuses: [{ name: 'prefect-job', state: { waiting: { reason: 'ErrImagePull', message: 'not found' } } }] }));
    expect(await jobPodProblem(api, { namespace: 'lolpop-pool', job: 'run-x' })).toBe(
      'Job lolpop-pool/run-x: pod run-x-abcde, container prefect-job: ErrImagePull: not found',
    );
    expect(api.paths).toEqual(['/api/v1/namespaces/lolpop-pool/pods?labelSelector=job-name%3Drun-x']);
  });

  it('a container that ended with an error: reason, exit code and the last lines of its (current) log', async () => {
    const api = cluster(jobPod({ containerStatuses: [{ name: 'prefect-job', state: { terminated: { reason: 'Error', exitCode: 1 } } }] }), 'ValueError: boom\n');
    expect(await jobPodProblem(api, { namespace: 'lolpop-pool', job: 'run-x' })).toBe(
      'Job lolpop-pool/run-x: pod run-x-abcde, container prefect-job: Error (exit code 1); its last log lines:\nValueError: boom',
    );
    expect(api.paths[1]).toContain('/pods/run-x-abcde/log?container=prefect-job&previous=false');
  });

  it('a pod that succeeded or still runs has nothing to say', async () => {
    const ok = cluster(jobPod({ containerStatuses: [{ name: 'prefect-job', state: { terminated: { reason: 'Completed', exitCode: 0 } } }] }));
    expect(await jobPodProblem(ok, { namespace: 'n', job: 'j' })).toBeUndefined();
  });
});

describe('waiting for a flow run whose pod cannot start', () => {
  const run = (type: string): FlowRun => ({ id: 'r1', name: 'brave-fox', state: { type, name: type }, infrastructure_pid: 'lolpop-pool:run-x', work_pool_name: 'lolpop-k8s' });
  const api = (states: string[]) => {
    let i = 0;
    return { readFlowRun: async () => run(states[Math.min(i++, states.length - 1)]!), tailLogs: async () => [] } as unknown as PrefectApi;
  };
  const request = { run: { id: 'r1', url: 'http://ui/runs/r1', state: 'SCHEDULED' as const, created: true }, timeoutMs: 60_000, pollMs: 1 };

  it('a PENDING run whose pod shows a reason it will not start fails at once, with that reason', async () => {
    const wait = waitForFlowRun(api(['PENDING']), new MemoryLogger(), request, async () => 'Job lolpop-pool/run-x: pod p, container prefect-job: ImagePullBackOff');
    await expect(wait).rejects.toThrow(RunFailedError);
    await expect(wait).rejects.toThrow('Flow run brave-fox cannot start: Job lolpop-pool/run-x: pod p, container prefect-job: ImagePullBackOff (http://ui/runs/r1)');
  });

  it("a run that ended FAILED carries its pod's reason after the state message", async () => {
    const wait = waitForFlowRun(api(['RUNNING', 'FAILED']), new MemoryLogger(), request, async (r) => (r.state?.type === 'FAILED' ? 'pod p: Error (exit code 1)' : undefined));
    await expect(wait).rejects.toThrow(RunEndedError);
    await expect(wait).rejects.toThrow('Flow run brave-fox ended FAILED: pod p: Error (exit code 1) (http://ui/runs/r1)');
  });
});
