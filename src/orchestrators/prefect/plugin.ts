import type { BuiltInOrchestrator } from '../registry.js';
import { PrefectConfig } from './config.js';
import { PREFECT_KWARGS } from './kwargs.js';

export const prefectPlugin: BuiltInOrchestrator = {
  name: 'PrefectOrchestrator',
  description: "Prefect 2.17+/3.x over its REST API (lolpop's PrefectOrchestrator)",
  configSchema: PrefectConfig,
  kwargs: PREFECT_KWARGS,
  // The implementation (REST client, Kubernetes, Docker) is its own chunk, loaded when used.
  create: async (config, context) => {
    const { PrefectOrchestrator } = await import('./orchestrator.js');
    return new PrefectOrchestrator(PrefectConfig.parse(config ?? {}), context);
  },
};
