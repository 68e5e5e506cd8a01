import type { BuiltInOrchestrator } from '../registry.js';
import { PrefectConfig } from './config.js';
import { PREFECT_KWARGS } from './kwargs.js';
import { PrefectOrchestrator } from './orchestrator.js';

export const prefectPlugin: BuiltInOrchestrator = {
  name: 'PrefectOrchestrator',
  description: "Prefect 2.17+/3.x over its REST API (lolpop's PrefectOrchestrator)",
  configSchema: PrefectConfig,
  kwargs: PREFECT_KWARGS,
  create: async (config, context) => new PrefectOrchestrator(PrefectConfig.parse(config ?? {}), context),
};
