import path from 'node:path';
import { readCiContext } from '../ci-context.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { Exec } from '../exec.js';
import { PrefixedLogger, type Logger } from '../logger.js';
import { orchestratorLookup } from '../orchestrators/registry.js';
import type { PipelineResult } from '../pipeline.js';
import { runConfig } from '../run-config.js';
import { runMany, type WorkflowOutcome } from '../run-many.js';
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
  const config = await loadConfig(configFile, { ...invocation.overrides, source: 'flag' }, orchestratorLookup, env, environment.cwd, { unknownOrchestrator: 'warn' });
  const ci = readCiContext(env);
  const result = await runConfig(config, invocation.steps, {
    logger,
    env,
    ci,
    exec: environment.exec,
    fetch: environment.fetch,
    // lolpop resolves every path in its kwargs against the current directory.
    workdir: environment.cwd,
  });
  return { config, result };
}

/**
 * `-c` naming several files (commas, or a quoted glob): one workflow
 * each, at most `maxParallel` at once, every line prefixed with its deployment name.
 * A config error is that workflow's failure, not the others'.
 */
export async function runInvocations(invocation: CliInvocation, environment: CliEnvironment, files: string[]): Promise<WorkflowOutcome[]> {
  const ci = readCiContext(environment.env);
  const shared = new Map<string, unknown>();
  return runMany(files, { maxParallel: invocation.maxParallel, failFast: invocation.failFast }, async (file, outcome) => {
    const config = await loadConfig(file, { ...invocation.overrides, source: 'flag' }, orchestratorLookup, environment.env, environment.cwd, { unknownOrchestrator: 'warn' });
    outcome.name = config.deployment.name;
    outcome.result = await runConfig(config, invocation.steps, {
      logger: new PrefixedLogger(environment.logger, config.deployment.name),
      env: environment.env,
      ci,
      exec: environment.exec,
      fetch: environment.fetch,
      workdir: environment.cwd,
      shared,
    });
  });
}
