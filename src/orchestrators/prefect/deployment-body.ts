import { atLeast, type ServerVersion } from './version.js';

export interface DeploymentSpec {
  name: string;
  flowId: string;
  workPool?: string;
  workQueue?: string;
  entrypoint: string;
  pullSteps: Array<Record<string, unknown>>;
  jobVariables: Record<string, unknown>;
  parameters: Record<string, unknown>;
  tags: string[];
  description?: string;
  version?: string;
  enforceParameterSchema?: boolean;
}

/**
 * The body of `POST /deployments/` for the server's version. Prefect's schemas
 * forbid unknown fields (422), so each field is sent only to versions that know
 * it (see PREFECT.md's table).
 */
export function buildDeploymentBody(spec: DeploymentSpec, version: ServerVersion): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: spec.name,
    flow_id: spec.flowId,
    entrypoint: spec.entrypoint,
    pull_steps: spec.pullSteps,
    parameters: spec.parameters,
    tags: spec.tags,
    // We cannot read the flow's signature without importing its Python code, so
    // we send an open object schema: an explicit null would make every run fail
    // with 409 on servers that enforce the schema.
    parameter_openapi_schema: { title: 'Parameters', type: 'object', properties: {} },
    enforce_parameter_schema: spec.enforceParameterSchema ?? false,
  };
  if (spec.workPool) body.work_pool_name = spec.workPool;
  if (spec.workQueue) body.work_queue_name = spec.workQueue;
  if (spec.description !== undefined) body.description = spec.description;
  if (spec.version !== undefined) body.version = spec.version;
  if (atLeast(version, 2, 17)) {
    body.job_variables = spec.jobVariables;
  } else {
    body.infra_overrides = spec.jobVariables;
  }
  // A served deployment pauses itself when its process stops; deploying again
  // means "make it run", so unpause where the server has the field.
  if (atLeast(version, 2, 19)) body.paused = false;
  return body;
}
