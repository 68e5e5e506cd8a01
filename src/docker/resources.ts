import type { ResourceKey, Resources } from '../config/resources.js';
import { ConfigError } from '../errors.js';

/**
 * deploy.resources in Docker's own form, decided here once for every Docker target (a
 * Prefect static `docker` deployment's `docker run`, a Prefect docker work pool's job
 * variables, Airflow's DockerOperator). Docker has limits, not requests, and one engine
 * has no scheduler:
 * - cpu: the limit, else the request, as `--cpus` (NanoCpus, cores × 10⁹): the only CPU
 *   amount a container has. With both, the request has no Docker meaning (nothing
 *   schedules) and is documented so;
 * - memory: the limit as `--memory`, the request as `--memory-reservation`, in bytes;
 * - gpu: `--gpus <count>` (a DeviceRequest for the `gpu` capability), for nvidia.com/gpu
 *   only: Docker's --gpus is NVIDIA's device request; no accelerator type can be chosen;
 * - node_selector, tolerations, service_account, env_from_secrets: refused by name.
 */
export interface DockerResources {
  /** `--cpus` as Docker stores it (HostConfig.NanoCpus). */
  nanoCpus?: number;
  /** `--memory`, bytes (HostConfig.Memory). */
  memoryBytes?: number;
  /** `--memory-reservation`, bytes (HostConfig.MemoryReservation). */
  memoryReservationBytes?: number;
  /** `--gpus <count>` (HostConfig.DeviceRequests: count, capabilities [[gpu]]). */
  gpus?: number;
}

/** The key path every refusal names, as the Kubernetes and Airflow refusals do. */
const KEY = 'orchestrator.deployment.deploy.resources';

/** The one GPU resource Docker's --gpus stands for. */
export const DOCKER_GPU_RESOURCE = 'nvidia.com/gpu';

const KUBERNETES_ONLY = 'it applies to Kubernetes targets (deployment.type kubernetes, a kubernetes work pool, Airflow task: kubernetes)';

/** Why a key (or a part of one) has no meaning on a Docker engine. */
const REFUSED: Partial<Record<ResourceKey, string>> = {
  node_selector: `a Docker engine is one host, there is no node to select; ${KUBERNETES_ONLY}`,
  tolerations: `a Docker engine has no taints to tolerate; ${KUBERNETES_ONLY}`,
  service_account: `a Docker container runs under no Kubernetes ServiceAccount; ${KUBERNETES_ONLY}`,
  env_from_secrets:
    "Docker has no Secrets to read; pass the value as a secret parameter (run.parameters with the value, named in run.secret_parameters), " +
    'or deploy to a Kubernetes target, which reads it from the Secret',
};

/**
 * `resources` for a Docker container; `target` says which (e.g. "a Prefect static docker
 * deployment"). Every key Docker cannot honour is refused, all of them in one error, each
 * by its key path: none is dropped.
 */
export function dockerResources(resources: Resources | undefined, target: string): DockerResources {
  if (!resources) return {};
  const problems: string[] = [];
  for (const key of Object.keys(REFUSED) as ResourceKey[]) {
    if (resources[key] !== undefined) problems.push(`${KEY}.${key}: ${REFUSED[key]}`);
  }
  const out: DockerResources = {};
  const fail = (key: string, why: string) => problems.push(`${KEY}.${key}: ${why}`);
  if (resources.cpu) {
    const which = resources.cpu.limit !== undefined ? 'limit' : 'request';
    const quantity = resources.cpu.limit ?? resources.cpu.request;
    if (quantity !== undefined) {
      const nanos = nanoCpus(quantity);
      if (typeof nanos === 'string') fail(`cpu.${which}`, nanos);
      else out.nanoCpus = nanos;
    }
  }
  if (resources.memory) {
    for (const [which, field] of [
      ['limit', 'memoryBytes'],
      ['request', 'memoryReservationBytes'],
    ] as const) {
      const quantity = resources.memory[which];
      if (quantity === undefined) continue;
      const bytes = memoryBytes(quantity);
      if (typeof bytes === 'string') fail(`memory.${which}`, bytes);
      else out[field] = bytes;
    }
    if (out.memoryBytes !== undefined && out.memoryReservationBytes !== undefined && out.memoryReservationBytes > out.memoryBytes) {
      fail('memory', `the request (${resources.memory.request}) is more than the limit (${resources.memory.limit}); Docker refuses a reservation over the limit`);
    }
  }
  if (resources.gpu) {
    if (resources.gpu.resource !== DOCKER_GPU_RESOURCE) {
      fail('gpu.resource', `Docker's --gpus requests ${DOCKER_GPU_RESOURCE} devices only; '${resources.gpu.resource}' has no Docker form (give it on a Kubernetes target)`);
    }
    if (resources.gpu.accelerator !== undefined) {
      fail('gpu.accelerator', "Docker's --gpus cannot choose an accelerator type (the engine's GPUs are what they are); remove it, or deploy to Kubernetes and name it in node_selector");
    }
    out.gpus = resources.gpu.count;
  }
  if (problems.length > 0) {
    throw new ConfigError(`${KEY} cannot be honoured by ${target}: ${problems.join('; ')}. Remove ${problems.length > 1 ? 'those keys' : 'that key'}.`);
  }
  return out;
}

/** `docker run` options for `r`: --cpus, --memory, --memory-reservation, --gpus. */
export function dockerRunResourceArgs(r: DockerResources): string[] {
  const args: string[] = [];
  if (r.nanoCpus !== undefined) args.push('--cpus', decimalCores(r.nanoCpus));
  if (r.memoryBytes !== undefined) args.push('--memory', `${r.memoryBytes}b`);
  if (r.memoryReservationBytes !== undefined) args.push('--memory-reservation', `${r.memoryReservationBytes}b`);
  if (r.gpus !== undefined) args.push('--gpus', String(r.gpus));
  return args;
}

/** NanoCpus as the decimal core count `--cpus` takes: 500000000 → "0.5". */
export function decimalCores(nanos: number): string {
  const whole = Math.floor(nanos / 1e9);
  const fraction = String(nanos % 1e9).padStart(9, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

/** A Kubernetes CPU quantity ("2", "0.5", "500m") as NanoCpus, or why it has none. */
export function nanoCpus(quantity: string): number | string {
  const milli = /^(\d+)m$/.exec(quantity);
  const nanos = milli ? BigInt(milli[1]!) * 1_000_000n : scaled(quantity, 1_000_000_000n);
  if (nanos === undefined) return `'${quantity}' is not a CPU quantity ("2", "0.5", "500m")`;
  if (typeof nanos === 'string') return `'${quantity}' is finer than Docker's --cpus takes (${nanos})`;
  if (nanos === 0n) return `'${quantity}' is no CPU at all; Docker's --cpus needs more than 0`;
  if (nanos > BigInt(Number.MAX_SAFE_INTEGER)) return `'${quantity}' is more cores than any Docker host has`;
  return Number(nanos);
}

const MEMORY_UNITS: Record<string, bigint> = {
  '': 1n,
  k: 10n ** 3n,
  M: 10n ** 6n,
  G: 10n ** 9n,
  T: 10n ** 12n,
  P: 10n ** 15n,
  E: 10n ** 18n,
  Ki: 2n ** 10n,
  Mi: 2n ** 20n,
  Gi: 2n ** 30n,
  Ti: 2n ** 40n,
  Pi: 2n ** 50n,
  Ei: 2n ** 60n,
};

/**
 * A Kubernetes memory quantity ("512Mi", "1G", "1.5Gi", "1000") in bytes, exactly: binary
 * suffixes are powers of 1024, decimal ones of 1000. A fraction of a byte is rounded up,
 * as Kubernetes rounds a quantity to whole bytes.
 */
export function memoryBytes(quantity: string): number | string {
  const match = /^(\d+(?:\.\d+)?)(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(quantity);
  if (!match) return `'${quantity}' is not a memory quantity ("512Mi", "2Gi", "1G")`;
  const bytes = scaled(match[1]!, MEMORY_UNITS[match[2] ?? '']!, 'up');
  if (typeof bytes !== 'bigint') return `'${quantity}' is not a memory quantity ("512Mi", "2Gi", "1G")`;
  if (bytes === 0n) return `'${quantity}' is no memory at all`;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return `'${quantity}' is more memory than any Docker host has`;
  return Number(bytes);
}

/**
 * A decimal number times `unit`, in integer arithmetic (no float rounding): "1.5" × 2³⁰ is
 * exactly 1610612736. Not a whole number: rounded up with `round: 'up'`, else a string
 * saying so; not a decimal number: undefined.
 */
function scaled(decimal: string, unit: bigint, round?: 'up'): bigint | string | undefined {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  const denominator = 10n ** BigInt(fraction.length);
  const numerator = BigInt(`${match[1]}${fraction}`) * unit;
  if (numerator % denominator === 0n) return numerator / denominator;
  if (round === 'up') return numerator / denominator + 1n;
  return `at most ${String(unit).length - 1} decimals`;
}
