import type { BuiltInOrchestrator } from '../registry.js';
import { AirflowConfig } from './config.js';

export const airflowPlugin: BuiltInOrchestrator = {
  name: 'AirflowOrchestrator',
  description: 'Apache Airflow 3.x over its REST API: a generated DAG delivered to the DAGs folder, one task running the lolpop runner',
  configSchema: AirflowConfig,
  // The implementation (ky client, DAG file, delivery) is its own chunk, loaded when used.
  create: async (config, context) => {
    const { AirflowOrchestrator } = await import('./orchestrator.js');
    return new AirflowOrchestrator(AirflowConfig.parse(config ?? {}), context);
  },
};
