import { z } from 'zod';

/**
 * Resources per deployment (seed 004: "per-step resources should be honoured"): one set of
 * keys, `deploy.resources` in the config, that each orchestrator maps onto its own form
 * (a Kubernetes pod spec, Prefect job_variables, a KubernetesPodOperator, Docker's
 * --cpus/--memory/--gpus, Kubeflow's PipelineSpec). An orchestrator that can honour only
 * some of them refuses the others by name (see `unsupportedResources`), never drops them.
 *
 * Quantities keep Kubernetes' own spelling ("500m", "2", "1Gi", "512M"), the form every
 * target here either takes as is or converts from.
 */

/** A Kubernetes CPU quantity: cores ("2", "0.5") or millicores ("500m"). */
const CPU_QUANTITY = /^(\d+(\.\d+)?|\d+m)$/;
/** A Kubernetes memory quantity: bytes, or a decimal (k, M, G, T) or binary (Ki, Mi, Gi, Ti) suffix. */
const MEMORY_QUANTITY = /^\d+(\.\d+)?(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

const Cpu = z
  .union([z.number().positive(), z.string().regex(CPU_QUANTITY, 'a CPU quantity such as "2", "0.5" or "500m"')])
  .transform((value) => String(value));
const Memory = z
  .string()
  .regex(MEMORY_QUANTITY, 'a memory quantity such as "512Mi", "2Gi" or "1G"');

/** A request, or a request and a limit. A bare value is the request. */
function requestAndLimit<T extends z.ZodType<string, unknown>>(quantity: T) {
  return z.union([
    quantity.transform((request) => ({ request, limit: undefined as string | undefined })),
    z
      .strictObject({ request: quantity.optional(), limit: quantity.optional() })
      // An empty {} would ask for nothing and map to nothing: silently ignored, so refused.
      .refine((value) => value.request !== undefined || value.limit !== undefined, 'a request, a limit or both: {request: …, limit: …}'),
  ]);
}

export const Toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(['Equal', 'Exists']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  toleration_seconds: z.number().int().optional(),
});

export const SecretEnv = z
  .strictObject({ secret: z.string().min(1), key: z.string().min(1) })
  .describe('An environment variable read from a Kubernetes Secret (or the target\'s own secret store).');

export const Resources = z
  .strictObject({
    cpu: requestAndLimit(Cpu).optional().describe('CPU request, or {request, limit}: "2", "0.5", "500m".'),
    memory: requestAndLimit(Memory).optional().describe('Memory request, or {request, limit}: "512Mi", "2Gi".'),
    gpu: z
      .strictObject({
        count: z.number().int().min(1),
        resource: z.string().min(1).default('nvidia.com/gpu').describe('The extended resource name, e.g. nvidia.com/gpu.'),
        accelerator: z.string().optional().describe('An accelerator type where the target names one (Kubeflow, node labels).'),
      })
      .optional(),
    node_selector: z.record(z.string(), z.string()).optional(),
    tolerations: z.array(Toleration).optional(),
    service_account: z.string().min(1).optional(),
    env_from_secrets: z.record(z.string(), SecretEnv).optional().describe('Environment variable name → {secret, key}.'),
  })
  .describe('deploy.resources: what the flow\'s container or pod asks for, honoured or refused by name per orchestrator.');

export type Resources = z.output<typeof Resources>;
export type ResourceKey = keyof Resources;

/**
 * The keys of `resources` that are set but not in `supported`: an orchestrator calls this
 * once and fails with every key it cannot honour named, e.g.
 * "deploy.resources.gpu is not supported by a Prefect process pool".
 */
export function unsupportedResources(resources: Resources | undefined, supported: readonly ResourceKey[]): ResourceKey[] {
  if (!resources) return [];
  return (Object.keys(resources) as ResourceKey[]).filter(
    (key) => resources[key] !== undefined && !supported.includes(key),
  );
}
