import { z } from 'zod';

/** PrefectOrchestrator's `orchestrator.config`, names and defaults from lolpop's PrefectOrchestrator docs. */
export const PrefectConfig = z
  .object({
    decorator_method: z.string().default('decorator'),
    integration_types: z.array(z.string()).default(['runner', 'pipeline', 'component']),
    prefect_profile: z.string().default('default'),
    prefect_flow_integration: z.array(z.string()).default(['runner', 'pipeline']),
    prefect_task_integration: z.array(z.string()).default(['component']),
    flow_kwargs: z.record(z.string(), z.unknown()).default({ log_prints: true }),
    task_kwargs: z.record(z.string(), z.unknown()).optional(),
    cache_tasks: z.boolean().default(true),
    prefect_settings: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
      .default({})
      .describe('PREFECT_API_URL, PREFECT_UI_URL, …; the environment wins. Put keys in ${ENV} references, never in the file.'),
  })
  .loose();

export type PrefectConfig = z.infer<typeof PrefectConfig>;
