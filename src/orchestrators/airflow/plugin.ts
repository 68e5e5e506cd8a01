import type { BuiltInOrchestrator } from '../orchestrator.js';
import { AirflowConfig } from './config.js';
import { AIRFLOW_KWARGS } from './kwargs.js';
import { dagIdFor } from './names.js';
import { AirflowOrchestrator } from './orchestrator.js';

export const airflowPlugin: BuiltInOrchestrator = {
  name: 'AirflowOrchestrator',
  description: 'Apache Airflow 3.x (and 2.10) over its REST API: a generated DAG delivered to the DAGs folder, one task running the lolpop runner',
  docs: 'docs/airflow.md',
  runNoun: 'DAG run',
  configSchema: AirflowConfig,
  kwargs: AIRFLOW_KWARGS,
  target: (deployment) => ({ dagId: dagIdFor(deployment.name) }),
  // The config as the loader parsed it with configSchema (durations already in ms): parsed once.
  create: async (config, context) => new AirflowOrchestrator(config as AirflowConfig, context),
};
