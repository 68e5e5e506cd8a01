import type { OrchestratorPlugin } from '../orchestrator.js';
import { PrefectConfig } from './config.js';
import { PrefectOrchestrator } from './orchestrator.js';

export const prefectPlugin: OrchestratorPlugin = {
  name: 'PrefectOrchestrator',
  description: "Prefect 2.17+/3.x over its REST API (lolpop's PrefectOrchestrator)",
  configSchema: PrefectConfig,
  create: (config, context) => new PrefectOrchestrator(PrefectConfig.parse(config ?? {}), context),
};
