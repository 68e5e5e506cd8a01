import { z } from 'zod';

/**
 * LocalOrchestrator's `orchestrator.config`. lolpop's own decorator keys
 * (decorator_method, integration_types, …) pass through untouched.
 */
export const LocalConfig = z
  .object({
    python: z
      .string()
      .min(1)
      .optional()
      .describe('Python interpreter for runs; the PYTHON environment variable wins, else python3 from PATH.'),
    state_dir: z.string().min(1).default('.lolpop-deploy').describe('Where deployments and runs are recorded, relative to the config file.'),
    use_prefect: z
      .boolean()
      .default(false)
      .describe('Run through the generated Prefect flow (prefect_files/run.py) when prefect is importable; else call the runner directly.'),
    flow_kwargs: z.record(z.string(), z.unknown()).optional().describe('@flow(...) arguments for the generated entrypoint.'),
  })
  .loose();

export type LocalConfig = z.infer<typeof LocalConfig>;
