import type { BuiltInOrchestrator } from '../registry.js';
import { LocalConfig } from './config.js';

export const localPlugin: BuiltInOrchestrator = {
  name: 'LocalOrchestrator',
  description: 'Runs the workflow in a local Python process and records it under .lolpop-deploy/ (no server, no Docker)',
  configSchema: LocalConfig,
  // The implementation (launcher, state, HTML report) is its own chunk, loaded when used.
  create: async (config, context) => {
    const { LocalOrchestrator } = await import('./orchestrator.js');
    return new LocalOrchestrator(LocalConfig.parse(config ?? {}), context);
  },
};
