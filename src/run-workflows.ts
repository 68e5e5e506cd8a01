import type { CiContext } from './ci-context.js';
import { loadConfig, type ConfigOverrides, type LoadedConfig, type LoadOptions } from './config/load.js';
import { describeError, UserError } from './errors.js';
import type { Exec } from './exec.js';
import { PrefixedLogger, type Logger } from './logger.js';
import { orchestratorLookup } from './orchestrators/registry.js';
import type { PipelineHooks } from './pipeline.js';
import { runConfig, type RunEnvironment } from './run-config.js';
import { runMany, type WorkflowOutcome } from './run-many.js';
import type { RunResult } from './run-state.js';
import type { StepName } from './steps.js';

/** What to run, as a shell read it from its inputs (the action) or its flags (the CLI). */
export interface WorkflowsRequest {
  /** The config files, found and absolute: one workflow each (at least one). */
  files: string[];
  steps: StepName[];
  /** The inputs' or flags' values over each file's (`source` says which, for messages). */
  overrides: ConfigOverrides;
  /** Several files: how many run at once, and whether the first failure stops the rest. */
  maxParallel: number;
  failFast: boolean;
  /**
   * The directory paths in the config are relative to, as lolpop resolves them: the
   * current directory for the CLI, `working-directory` for the action.
   */
  workdir: string;
  /** Registry credentials from the action's inputs. */
  registry?: RunEnvironment['registry'];
  /** A decorator.orchestrator nobody knows: the action fails, the CLI warns (as lolpop would run it locally). */
  unknownOrchestrator: LoadOptions['unknownOrchestrator'];
}

/**
 * A shell (the action, the CLI) as the core sees it: how a run reaches the world, how
 * it reads what to run, and how it reports the end. The rest is the same for both.
 */
export interface Shell<Exit> {
  logger: Logger;
  env: NodeJS.ProcessEnv;
  ci: CiContext;
  /** Tests may replace the process runner and fetch. */
  exec?: Exec;
  fetch?: typeof globalThis.fetch;
  /** Reads what to run; a throw (a bad input or flag) is the run's failure, reported by finish. */
  request(): Promise<WorkflowsRequest> | WorkflowsRequest;
  /** Reporting while a workflow's steps run (the action's in-flight PR comment). */
  progress?(request: WorkflowsRequest): PipelineHooks | undefined;
  /** A workflow's run has started (before any wait): the action saves it, so a cancelled job cancels it. */
  runStarted?(config: LoadedConfig, run: RunResult): void;
  /** Before several workflows start (the action's comment listing them as pending). */
  starting?(request: WorkflowsRequest): Promise<void>;
  /** Outputs, comment and summary, or stdout: everything is known by now. */
  finish(run: FinishedRun): Promise<Exit>;
}

/** How a run ended, as a shell reports it. */
export interface FinishedRun {
  /** What was asked for; undefined when reading it failed. */
  request?: WorkflowsRequest;
  /** One per config file, in the order given; empty when nothing started. */
  outcomes: WorkflowOutcome[];
  /** Several config files: reported as a list, each workflow under its name. */
  several: boolean;
  /**
   * Why the run failed, undefined when it did not: a bad request, the one workflow's
   * own error, or for several "2 of 3 workflows failed (a, b)".
   */
  failure?: unknown;
}

/**
 * The one path from a shell's request to its report, for one config file or several:
 * each file loaded and run with the same environment (assembled here only), then the
 * shell's finish. Never throws what a workflow throws: it is that workflow's outcome.
 */
export async function runAndFinish<Exit>(shell: Shell<Exit>): Promise<Exit> {
  let request: WorkflowsRequest | undefined;
  try {
    request = await shell.request();
    checkRequest(request);
  } catch (error) {
    return shell.finish({ request, outcomes: [], several: false, failure: error });
  }
  const outcomes = await runWorkflows(request, shell);
  const several = request.files.length > 1;
  return shell.finish({ request, outcomes, several, failure: several ? severalFailure(outcomes) : outcomes[0]!.error });
}

/** Several files with one deployment-name override would all deploy the same name. */
function checkRequest(request: WorkflowsRequest): void {
  const name = request.overrides.deploymentName;
  if (request.files.length > 1 && name) {
    const label = request.overrides.source === 'flag' ? '-n/--deployment-name' : 'input deployment-name';
    throw new UserError(`${label}: ${request.files.length} config files would all deploy '${name}'; name each in its file`);
  }
}

async function runWorkflows<Exit>(request: WorkflowsRequest, shell: Shell<Exit>): Promise<WorkflowOutcome[]> {
  const several = request.files.length > 1;
  if (several) {
    await shell.starting?.(request);
    shell.logger.info(`${request.files.length} workflows, at most ${request.maxParallel} at once${request.failFast ? ', fail-fast' : ''}`);
  }
  // What the workflows of one step learn of a server, asked once (OrchestratorContext.shared).
  const shared = new Map<string, unknown>();
  const progress = several ? undefined : shell.progress?.(request);
  return runMany(request.files, request, async (file, outcome) => {
    const config = await loadConfig(file, request.overrides, orchestratorLookup, shell.env, request.workdir, { unknownOrchestrator: request.unknownOrchestrator });
    outcome.name = config.deployment.name;
    outcome.result = await runConfig(config, request.steps, {
      // Several run side by side: each line says whose it is.
      logger: several ? new PrefixedLogger(shell.logger, config.deployment.name) : shell.logger,
      env: shell.env,
      ci: shell.ci,
      exec: shell.exec,
      fetch: shell.fetch,
      registry: request.registry,
      workdir: request.workdir,
      hooks: { ...progress, onRunStarted: (run) => shell.runStarted?.(config, run) },
      shared,
    });
  });
}

/** Several workflows: the step fails when any did, naming them. */
function severalFailure(outcomes: readonly WorkflowOutcome[]): UserError | undefined {
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length === 0) return undefined;
  const notStarted = outcomes.filter((o) => o.status === 'not-started').length;
  const names = failed.map((o) => o.name ?? o.file).join(', ');
  return new UserError(`${failed.length} of ${outcomes.length} workflows failed (${names})${notStarted > 0 ? `; ${notStarted} not started (fail-fast)` : ''}`);
}

/** One failed workflow's error as its own line: prefixed with its name (or file) when several ran. */
export function workflowError(outcome: WorkflowOutcome): string {
  return `${outcome.name ?? outcome.file}: ${describeError(outcome.error)}`;
}
