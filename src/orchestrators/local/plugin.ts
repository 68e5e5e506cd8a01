import type { BuiltInOrchestrator } from '../orchestrator.js';
import { LocalConfig } from './config.js';
import { LocalOrchestrator } from './orchestrator.js';

export const localPlugin: BuiltInOrchestrator = {
  name: 'LocalOrchestrator',
  description: 'Runs the workflow in a local Python process and records it under .lolpop-deploy/ (no server, no Docker)',
  docs: 'docs/local.md',
  configSchema: LocalConfig,
  // lolpop puts @flow(...) arguments in orchestrator.config.flow_kwargs (its PrefectOrchestrator docs).
  packageDefaults: (config) => ({ flow_kwargs: (config as LocalConfig).flow_kwargs }),
  // The config as the loader parsed it with configSchema (durations already in ms): parsed once.
  create: async (config, context) => new LocalOrchestrator(config as LocalConfig, context),
};
