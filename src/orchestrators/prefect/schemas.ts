import { z } from 'zod';

/**
 * The shape of each Prefect answer this tool relies on: only the fields it reads,
 * anything else passes through. `PrefectClient.request` parses every 2xx answer with
 * one of these, so a server (or a proxy) that answers something else ends in one
 * line naming the request, never in `undefined` further on.
 */

const id = z.string().min(1);

export const FlowRunStateSchema = z.looseObject({
  type: z.string().min(1),
  name: z.string(),
  message: z.string().nullish(),
});

export const FlowRunSchema = z.looseObject({
  id,
  name: z.string(),
  state: FlowRunStateSchema.nullable(),
  deployment_id: z.string().nullish(),
  idempotency_key: z.string().nullish(),
  work_pool_name: z.string().nullish(),
  infrastructure_pid: z.string().nullish(),
  start_time: z.string().nullish(),
});

export const DeploymentSchema = z.looseObject({
  id,
  name: z.string().min(1),
  flow_id: id,
  work_pool_name: z.string().nullish(),
  entrypoint: z.string().nullish(),
  job_variables: z.record(z.string(), z.unknown()).optional(),
  pull_steps: z.array(z.record(z.string(), z.unknown())).nullish(),
  paused: z.boolean().optional(),
  status: z.string().nullish(),
  updated: z.string().nullish(),
  last_polled: z.string().nullish(),
});

export const WorkPoolSchema = z.looseObject({
  name: z.string().min(1),
  type: z.string().min(1),
  base_job_template: z
    .looseObject({
      variables: z.looseObject({ properties: z.record(z.string(), z.unknown()).optional() }).optional(),
      job_configuration: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

/** `GET /admin/version`: a JSON string such as "3.4.1". */
export const VersionSchema = z.string().regex(/^\d+\.\d+/, { message: 'expected a version such as "3.4.1"' });

/** `POST /flows/`. */
export const FlowIdSchema = z.looseObject({ id });

/** A block type, schema or document: only its id is read (never a document's data). */
export const BlockIdSchema = z.looseObject({ id });
export const BlockSchemasSchema = z.array(BlockIdSchema);

export const LogEntrySchema = z.looseObject({ level: z.number(), message: z.string() });
export const LogsSchema = z.array(LogEntrySchema);

export const FlowRunsSchema = z.array(FlowRunSchema);

/** `GET /csrf-token` when protection is on. */
export const CsrfTokenSchema = z.looseObject({ token: z.string().min(1) });

/** `POST /flow_runs/{id}/set_state`: Prefect's OrchestrationResult. */
export const SetStateSchema = z.looseObject({
  status: z.string().min(1),
  state: z.looseObject({ type: z.string() }).nullish(),
  details: z.looseObject({ reason: z.string().nullish() }).nullish(),
});

/** An answer whose body is not used (PATCH, DELETE, pause/resume). */
export const IgnoredSchema = z.unknown();
