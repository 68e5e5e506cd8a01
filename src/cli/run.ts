import path from 'node:path';
import { readCiContext } from '../ci-context.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { Exec } from '../exec.js';
import type { Logger } from '../logger.js';
import { orchestratorLookup } from '../orchestrators/registry.js';
import type { PipelineResult } from '../pipeline.js';
import { runConfig } from '../run-config.js';
import type { CliInvocation } from './program.js';

/** What a CLI run reaches outside itself; tests may replace any of it. */
export interface CliEnvironment {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  cwd: string;
  exec?: Exec;
  fetch?: typeof globalThis.fetch;
}

export interface CliRun {
  config: LoadedConfig;
  result: PipelineResult;
}

/**
 * Loads the config (as the action does, with the flags as overrides), creates its
 * orchestrator and runs the pipeline. Throws ConfigError before anything is built;
 * a failing step is held in `result.error`, as runPipeline does.
 */
export async function runInvocation(invocation: CliInvocation, environment: CliEnvironment): Promise<CliRun> {
  const { logger, env } = environment;
  const configFile = path.resolve(environment.cwd, invocation.configFile);
  const loaded = loadConfig(configFile, { ...invocation.overrides, source: 'flag' }, orchestratorLookup, env);
  const config = withOrchestrator(loaded, invocation.orchestrator);
  const ci = readCiContext(env);
  const result = await runConfig(config, invocation.steps, { logger, env, ci, exec: environment.exec, fetch: environment.fetch });
  return { config, result };
}

/**
 * lolpop's --packager/--deployer name the orchestrator on the command line; the
 * file's orchestrator.config is then checked against that orchestrator's schema.
 */
export function withOrchestrator(config: LoadedConfig, chosen: CliInvocation['orchestrator']): LoadedConfig {
  if (!chosen || chosen.name === config.orchestrator) return config;
  const schema = orchestratorLookup.schemaFor(chosen.name);
  if (!schema) {
    if (orchestratorLookup.isModuleReference(chosen.name)) return { ...config, orchestrator: chosen.name };
    throw new ConfigError(
      `${chosen.flag}: unknown orchestrator '${chosen.name}'; known: ${orchestratorLookup.known().join(', ')} (or a module path such as ./my_orchestrator.mjs)`,
    );
  }
  const parsed = schema.safeParse(config.orchestratorConfig ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `${chosen.flag} ${chosen.name}: orchestrator.config.${issue.path.join('.')}: ${issue.message} (the file's config is for ${config.orchestrator})`,
    );
  }
  return { ...config, orchestrator: chosen.name, orchestratorConfig: parsed.data };
}
