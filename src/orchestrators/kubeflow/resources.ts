import type { Resources } from '../../config/resources.js';
import { ConfigError } from '../../errors.js';

/**
 * deploy.resources as KFP v2 takes them. cpu, memory and gpu go into the executor's
 * `container.resources` of the PipelineSpec, written as kfp 2.x's compiler writes them:
 * the current string fields and their deprecated numeric mirrors (older backends read
 * those). node_selector, tolerations and env_from_secrets go into the kubernetes
 * PlatformSpec (kfp-kubernetes' KubernetesExecutorConfig); service_account is a field of
 * the run. Every key is honoured: none is refused.
 */

/** The executor's `container.resources`, or undefined when no quantity is set. */
export function containerResources(resources: Resources | undefined): Record<string, unknown> | undefined {
  if (!resources) return undefined;
  const out: Record<string, unknown> = {};
  const { cpu, memory, gpu } = resources;
  if (cpu?.limit !== undefined) Object.assign(out, { cpuLimit: cpuCores(cpu.limit), resourceCpuLimit: cpu.limit });
  if (cpu?.request !== undefined) Object.assign(out, { cpuRequest: cpuCores(cpu.request), resourceCpuRequest: cpu.request });
  if (memory?.limit !== undefined) Object.assign(out, { memoryLimit: memoryGigabytes('limit', memory.limit), resourceMemoryLimit: memory.limit });
  if (memory?.request !== undefined) Object.assign(out, { memoryRequest: memoryGigabytes('request', memory.request), resourceMemoryRequest: memory.request });
  if (gpu) {
    // KFP on Kubernetes puts resourceType into the pod's limits, so it is the extended
    // resource's name; Vertex AI names an accelerator type instead (gpu.accelerator).
    const type = gpu.accelerator ?? gpu.resource;
    const count = String(gpu.count);
    out.accelerator = { count, resourceCount: count, resourceType: type, type };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The executor's KubernetesExecutorConfig (kfp-kubernetes), or undefined when nothing in it is set. */
export function kubernetesExecutorConfig(resources: Resources | undefined): Record<string, unknown> | undefined {
  if (!resources) return undefined;
  const out: Record<string, unknown> = {};
  if (resources.node_selector && Object.keys(resources.node_selector).length > 0) out.nodeSelector = { labels: resources.node_selector };
  if (resources.tolerations && resources.tolerations.length > 0) {
    out.tolerations = resources.tolerations.map((t) => ({
      ...(t.key === undefined ? {} : { key: t.key }),
      ...(t.operator === undefined ? {} : { operator: t.operator }),
      ...(t.value === undefined ? {} : { value: t.value }),
      ...(t.effect === undefined ? {} : { effect: t.effect }),
      // int64 in the proto: JSON carries it as a string.
      ...(t.toleration_seconds === undefined ? {} : { tolerationSeconds: String(t.toleration_seconds) }),
    }));
  }
  if (resources.env_from_secrets && Object.keys(resources.env_from_secrets).length > 0) {
    // One entry per Secret, as use_secret_as_env writes them (name twice: the deprecated field and the parameter).
    const bySecret = new Map<string, Array<{ envVar: string; secretKey: string }>>();
    for (const [envVar, { secret, key }] of Object.entries(resources.env_from_secrets)) {
      bySecret.set(secret, [...(bySecret.get(secret) ?? []), { envVar, secretKey: key }]);
    }
    out.secretAsEnv = [...bySecret].map(([secret, keyToEnv]) => ({
      keyToEnv,
      optional: false,
      secretName: secret,
      secretNameParameter: { runtimeValue: { constant: secret } },
    }));
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** CPU cores as a number, the deprecated mirror: "500m" → 0.5, "2" → 2. */
function cpuCores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

/** kfp's memory units (pipeline_task.py): its regex takes an integer and these suffixes only. */
const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * Memory in units of 10^9 bytes, the deprecated mirror ("1Gi" → 1.073741824). A form the
 * kfp SDK refuses (a decimal, a lower-case k) is refused here by name, not converted.
 */
function memoryGigabytes(which: 'request' | 'limit', quantity: string): number {
  const match = /^(\d+)(E|Ei|P|Pi|T|Ti|G|Gi|M|Mi|K|Ki)?$/.exec(quantity);
  if (!match) {
    throw new ConfigError(
      `deploy.resources.memory.${which} '${quantity}' is not a memory quantity Kubeflow Pipelines takes: ` +
        'write a whole number with one of E, P, T, G, M, K or Ei, Pi, Ti, Gi, Mi, Ki (e.g. 1536Mi, not 1.5Gi or 512k)',
    );
  }
  // In kfp's order of operations (compiler_utils._memory_to_float), so the doubles are the same bits.
  return match[2] === 'G' ? Number(match[1]) : (Number(match[1]) * MEMORY_UNITS[match[2] ?? '']!) / 1e9;
}
