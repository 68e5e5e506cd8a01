import type { BuiltInOrchestrator } from '../orchestrator.js';
import { KubeflowConfig } from './config.js';
import { KUBEFLOW_KWARGS } from './kwargs.js';
import { pipelineNameFor } from './names.js';
import { KubeflowPipelinesOrchestrator } from './orchestrator.js';

export const kubeflowPlugin: BuiltInOrchestrator = {
  name: 'KubeflowPipelinesOrchestrator',
  description: 'Kubeflow Pipelines v2 over its REST API: the package\'s image and a PipelineSpec IR uploaded as a pipeline version, one container task running the lolpop runner',
  docs: 'docs/kubeflow.md',
  runNoun: 'pipeline run',
  configSchema: KubeflowConfig,
  kwargs: KUBEFLOW_KWARGS,
  target: (deployment) => ({ pipeline: pipelineNameFor(deployment.name) }),
  // The config as the loader parsed it with configSchema (durations already in ms): parsed once.
  create: async (config, context) => new KubeflowPipelinesOrchestrator(config as KubeflowConfig, context),
};
