import type { BuiltInOrchestrator } from '../orchestrator.js';
import { PrefectConfig } from './config.js';
import { PREFECT_KWARGS, type PrefectKwargs } from './kwargs.js';
import { PrefectOrchestrator } from './orchestrator.js';
import { prefectTarget } from './target.js';
import type { ResolvedDeployment } from '../../deployment.js';

export const prefectPlugin: BuiltInOrchestrator = {
  name: 'PrefectOrchestrator',
  description: "Prefect 2.17+/3.x over its REST API (lolpop's PrefectOrchestrator)",
  docs: 'docs/prefect.md',
  runNoun: 'flow run',
  configSchema: PrefectConfig,
  kwargs: PREFECT_KWARGS,
  // The deployment was checked against PREFECT_KWARGS (the loader's kwargsFor this name).
  target: (deployment) => prefectTarget(deployment as ResolvedDeployment<PrefectKwargs>),
  // lolpop puts @flow(...) arguments in orchestrator.config.flow_kwargs (its PrefectOrchestrator docs).
  packageDefaults: (config) => ({ flow_kwargs: (config as PrefectConfig).flow_kwargs }),
  // The config as the loader parsed it with configSchema (durations already in ms): parsed once.
  create: async (config, context) => new PrefectOrchestrator(config as PrefectConfig, context),
};
