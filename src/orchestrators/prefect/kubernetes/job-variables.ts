import type { ResourceKey, Resources } from '../../../config/resources.js';
import { OrchestratorError } from '../../../errors.js';
import { podResources } from '../../../kubernetes/pod-resources.js';
import type { WorkPool } from '../api.js';
import { missingJobVariables } from '../pool-template.js';

/**
 * deploy.resources on a Prefect kubernetes work pool: each key becomes job variables, which
 * the pool's base job template places in the Job's pod. What a template has depends on the
 * worker that wrote it, so it is read from the pool, never assumed: prefect-kubernetes 0.8's
 * default (Prefect 3) has cpu_request/cpu_limit, memory_request/memory_limit and
 * service_account_name; 0.4's (the Prefect 2 line) has service_account_name only. The
 * others need variables of the pool's own template (docs/prefect.md shows them).
 */
const VARIABLES: Record<Exclude<ResourceKey, 'env_from_secrets'>, readonly string[]> = {
  cpu: ['cpu_request', 'cpu_limit'],
  memory: ['memory_request', 'memory_limit'],
  gpu: ['gpu_limit'],
  node_selector: ['node_selector'],
  tolerations: ['tolerations'],
  service_account: ['service_account_name'],
};

/** The template placeholder a GPU count goes into: `limits: {nvidia.com/gpu: "{{ gpu_limit }}"}`. */
const GPU_PLACEHOLDER = '{{ gpu_limit }}';

/**
 * The job variables for `resources`, checked against the pool when it is known (undefined:
 * an offline plan, mapped unchecked). Refuses by name what the pool cannot honour: any key
 * on a pool that is not `kubernetes`, a key whose variable the pool's template lacks, a GPU
 * the template puts under another resource name, and env_from_secrets (Prefect's `env`
 * variable holds plain values only).
 */
export function resourceJobVariables(resources: Resources | undefined, pool: WorkPool | undefined): Record<string, unknown> {
  if (!resources) return {};
  const keys = (Object.keys(resources) as ResourceKey[]).filter((key) => resources[key] !== undefined);
  if (keys.length === 0) return {};
  if (pool && pool.type !== 'kubernetes') {
    throw new OrchestratorError(
      `Failed to deploy: deploy.resources (${keys.join(', ')}) is honoured on kubernetes and docker work pools (as job variables) and by deployment.type kubernetes or docker without a pool; ` +
        `work pool '${pool.name}' is a '${pool.type}' pool. Remove deploy.resources or use a kubernetes or docker pool.`,
    );
  }
  if (resources.env_from_secrets) {
    throw new OrchestratorError(
      "Failed to deploy: deploy.resources.env_from_secrets cannot reach a Prefect work pool's pods: the pool's `env` job variable holds plain values only. " +
        "Put the Secret references in the pool's base job template (containers[0].env entries with valueFrom, which the worker keeps), then remove env_from_secrets.",
    );
  }
  if (pool) refuseMissingVariables(resources, keys, pool);
  const pod = podResources(resources);
  const requests = pod.container.resources?.requests ?? {};
  const limits = pod.container.resources?.limits ?? {};
  const out: Record<string, unknown> = {};
  const set = (name: string, value: unknown) => {
    if (value !== undefined) out[name] = value;
  };
  set('cpu_request', requests.cpu);
  set('cpu_limit', limits.cpu);
  set('memory_request', requests.memory);
  set('memory_limit', limits.memory);
  if (resources.gpu) set('gpu_limit', String(resources.gpu.count));
  set('node_selector', pod.pod.nodeSelector);
  set('tolerations', pod.pod.tolerations);
  set('service_account_name', resources.service_account);
  return out;
}

function refuseMissingVariables(resources: Resources, keys: ResourceKey[], pool: WorkPool): void {
  const missing = missingJobVariables(
    pool,
    keys.flatMap((key) => (VARIABLES[key as keyof typeof VARIABLES] ?? []).map((v) => [key, v] as const)),
  );
  if (missing.length > 0) {
    throw new OrchestratorError(
      `Failed to deploy: work pool '${pool.name}' has no job variable for what deploy.resources asks (${missing.join('; ')}); ` +
        "add the variables to the pool's base job template (docs/prefect.md, 'Kubernetes work pools') or remove those keys.",
    );
  }
  // The count is useless under another vendor's name: the template must put it under this one.
  if (resources.gpu) {
    const placed = gpuResourceName(pool.base_job_template?.job_configuration);
    if (placed !== resources.gpu.resource) {
      throw new OrchestratorError(
        `Failed to deploy: work pool '${pool.name}' puts "${GPU_PLACEHOLDER}" ${placed ? `under '${placed}'` : 'nowhere'} in containers[0].resources.limits of its base job template; ` +
          `deploy.resources.gpu.resource is '${resources.gpu.resource}'. Place the variable under that name in the template, or fix deploy.resources.gpu.resource.`,
      );
    }
  }
}

/** Where the template puts "{{ gpu_limit }}": the key of the container's limits that holds it. */
function gpuResourceName(jobConfiguration: unknown): string | undefined {
  const containers = (jobConfiguration as { job_manifest?: { spec?: { template?: { spec?: { containers?: unknown[] } } } } } | undefined)?.job_manifest?.spec
    ?.template?.spec?.containers;
  const limits = (containers?.[0] as { resources?: { limits?: Record<string, unknown> } } | undefined)?.resources?.limits ?? {};
  return Object.keys(limits).find((name) => limits[name] === GPU_PLACEHOLDER);
}
