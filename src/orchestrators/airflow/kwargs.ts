import type { z } from 'zod';
import { Resources } from '../../config/resources.js';
import { DeployKwargs, type KwargsSchemas, type StepKwargs } from '../../config/schema.js';

/**
 * AirflowOrchestrator's deploy kwargs: the common ones plus `resources` (the keys every
 * orchestrator reads), honoured by `task: kubernetes` and refused by name with the other
 * task kinds (airflowTask).
 */
export const AirflowDeployKwargs = DeployKwargs.extend({
  resources: Resources.optional(),
}).describe('--deployment-kwargs');

export type AirflowDeployKwargs = z.infer<typeof AirflowDeployKwargs>;

export interface AirflowKwargs extends StepKwargs {
  deploy: AirflowDeployKwargs;
}

/** The plugin's `kwargs`: the other sections are the common ones. */
export const AIRFLOW_KWARGS: KwargsSchemas<AirflowKwargs> = { deploy: AirflowDeployKwargs };
