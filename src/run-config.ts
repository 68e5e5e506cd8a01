import path from 'node:path';
import type { CiContext } from './ci-context.js';
import type { LoadedConfig } from './config/load.js';
import { ProcessExec, type Exec } from './exec.js';
import type { Logger } from './logger.js';
import { resolveDeployment } from './deployment.js';
import type { Orchestrator } from './orchestrators/orchestrator.js';
import { createOrchestrator, orchestratorTarget, runNounOf } from './orchestrators/registry.js';
import { runPipeline, type PipelineHooks, type PipelineResult } from './pipeline.js';
import { checkRunFiles } from './preflight.js';
import { runningSteps, type StepName } from './steps.js';
import { defaultFetch } from './http/proxy.js';

/** What one workflow's run reaches: assembled for both shells in run-workflows.ts only; tests may replace exec and fetch. */
export interface RunEnvironment {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  ci: CiContext;
  exec?: Exec;
  fetch?: typeof globalThis.fetch;
  registry?: { username: string; password: string };
  /**
   * The directory paths in the config are relative to, as lolpop resolves them: the
   * current directory for the CLI, `working-directory` for the action.
   */
  workdir: string;
  /** Progress reports while the steps run (the action's in-flight PR comment). */
  hooks?: PipelineHooks;
  /** One map for all the workflows of a step (OrchestratorContext.shared). */
  shared?: Map<string, unknown>;
}

/**
 * A loaded config's steps, run: its secrets registered first (so nothing prints
 * them), its orchestrator created, the pipeline run. Shared by the action and the
 * CLI so both behave the same; a failing step is held in the result.
 */
export async function runConfig(config: LoadedConfig, steps: StepName[], environment: RunEnvironment): Promise<PipelineResult> {
  const { logger } = environment;
  for (const secret of config.secrets) logger.addSecret(secret);
  for (const warning of config.warnings) logger.warning(warning);
  const deployment = resolveDeployment(config.orchestrator, config.deployment, environment.ci, orchestratorTarget(config.orchestrator));
  checkRunFiles(deployment, steps, config.file, environment.workdir, logger);
  const orchestrator = await openOrchestrator(config, environment);
  // Only the steps that run: a plan of deploy needs no server (an offline plan), deploy itself does.
  orchestrator.prepare?.(runningSteps(steps));
  logger.debug(`${config.orchestrator}: ${steps.join(' → ')} of ${config.deployment.name} (${config.file})`);
  return runPipeline(deployment, steps, orchestrator, logger, { hooks: environment.hooks, runNoun: runNounOf(config.orchestrator) });
}

/** A loaded config's orchestrator, created for this environment (register the config's secrets first). */
export async function openOrchestrator(config: LoadedConfig, environment: RunEnvironment): Promise<Orchestrator> {
  const { logger } = environment;
  return createOrchestrator(config.orchestrator, config.orchestratorConfig, {
    logger,
    exec: environment.exec ?? new ProcessExec(),
    fetch: environment.fetch ?? defaultFetch,
    env: environment.env,
    ci: environment.ci,
    workdir: path.resolve(environment.workdir),
    configFile: config.file,
    registry: environment.registry,
    shared: environment.shared,
  });
}
