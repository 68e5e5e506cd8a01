import type { OrchestratorPlugin } from '../orchestrator.js';
import { AirflowConfig } from './config.js';
import { AirflowOrchestrator } from './orchestrator.js';

export const airflowPlugin: OrchestratorPlugin = {
  name: 'AirflowOrchestrator',
  description: 'Apache Airflow 3.x over its REST API: a generated DAG delivered to the DAGs folder, one task running the lolpop runner',
  configSchema: AirflowConfig,
  create: (config, context) => new AirflowOrchestrator(AirflowConfig.parse(config ?? {}), context),
};
