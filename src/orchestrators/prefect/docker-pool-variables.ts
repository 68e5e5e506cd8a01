import type { Resources } from '../../config/resources.js';
import { dockerResources } from '../../docker/resources.js';
import { OrchestratorError } from '../../errors.js';
import type { WorkPool } from './api.js';
import { missingJobVariables } from './pool-template.js';

/**
 * deploy.resources on a Prefect docker work pool, as the job variables of prefect-docker's
 * worker (0.7.4 for Prefect 3, 0.5.5 for Prefect 2: the same two). Its job configuration
 * has `mem_limit` (--memory) and `container_create_kwargs`, which it hands to docker-py's
 * containers.create: nano_cpus (--cpus), mem_reservation (--memory-reservation) and
 * device_requests (--gpus) go there. mem_limit cannot: the worker drops every
 * container_create_kwargs key that is one of its own fields, silently.
 */
export function dockerPoolJobVariables(resources: Resources | undefined, pool: WorkPool | undefined): Record<string, unknown> {
  if (!resources) return {};
  const where = pool ? `Prefect docker work pool '${pool.name}'` : 'a Prefect docker work pool';
  const r = dockerResources(resources, where);
  const create: Record<string, unknown> = {};
  if (r.nanoCpus !== undefined) create.nano_cpus = r.nanoCpus;
  if (r.memoryReservationBytes !== undefined) create.mem_reservation = r.memoryReservationBytes;
  // What `docker run --gpus N` sends; docker-py builds its DeviceRequest from these keys.
  if (r.gpus !== undefined) create.device_requests = [{ count: r.gpus, capabilities: [['gpu']] }];
  const out: Record<string, unknown> = {};
  // A string, as the worker's field is typed; docker-py reads plain digits as bytes.
  if (r.memoryBytes !== undefined) out.mem_limit = String(r.memoryBytes);
  if (Object.keys(create).length > 0) out.container_create_kwargs = create;
  if (pool) {
    const needs = [
      ...(resources.cpu ? ([['cpu', 'container_create_kwargs']] as const) : []),
      ...(r.memoryBytes !== undefined ? ([['memory.limit', 'mem_limit']] as const) : []),
      ...(r.memoryReservationBytes !== undefined ? ([['memory.request', 'container_create_kwargs']] as const) : []),
      ...(resources.gpu ? ([['gpu', 'container_create_kwargs']] as const) : []),
    ];
    const missing = missingJobVariables(pool, needs);
    if (missing.length > 0) {
      throw new OrchestratorError(
        `Failed to deploy: work pool '${pool.name}' has no job variable for what deploy.resources asks (${missing.join('; ')}); ` +
          "add the variables to the pool's base job template (prefect-docker's default template has both) or remove those keys.",
      );
    }
  }
  return out;
}
