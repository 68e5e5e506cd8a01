import type { BuiltInOrchestrator } from '../registry.js';
import { AirflowConfig } from './config.js';
import { AirflowOrchestrator } from './orchestrator.js';

export const airflowPlugin: BuiltInOrchestrator = {
  name: 'AirflowOrchestrator',
  description: 'Apache Airflow 3.x over its REST API: a generated DAG delivered to the DAGs folder, one task running the lolpop runner',
  configSchema: AirflowConfig,
  create: async (config, context) => new AirflowOrchestrator(AirflowConfig.parse(config ?? {}), context),
};
