import type { ResolvedDeployment } from './deployment.js';
import { describeError, RunFailedError, UserError } from './errors.js';
import type { Logger } from './logger.js';
import { isFailure, type DeployResult, type Orchestrator, type PackageResult, type PlanResult, type RunResult, type StopResult } from './orchestrators/orchestrator.js';
import { stepRequests } from './step-requests.js';
import { plannedSteps, runningSteps, type StepName } from './steps.js';

/** `running` and `pending` appear only in progress reports, written while the pipeline runs. */
export type StepStatus = 'success' | 'failed' | 'skipped' | 'running' | 'pending';

export interface StepReport {
  step: StepName | 'wait';
  status: StepStatus;
  durationMs: number;
  /** One line: what the step produced, or why it failed. */
  detail?: string;
}

/** Everything the run produced, reported even when a step failed. */
export interface PipelineResult {
  orchestrator: string;
  /** What a run is called on that orchestrator ('flow run', 'DAG run'; its plugin's runNoun). */
  runNoun: string;
  deploymentName: string;
  steps: StepReport[];
  packaged?: PackageResult;
  deployment?: DeployResult;
  run?: RunResult;
  stopped?: StopResult;
  /** What package → deploy → run would do (the plan step). */
  plan?: PlanResult;
  /** The first failure; the caller reports everything above, then fails with this. */
  error?: Error;
}

/**
 * package → deploy → run (→ wait), or stop, in order, stopping at the first
 * failure. It never throws: the error is held in the result so outputs, the
 * summary and the comment are written before the step fails.
 */
export interface PipelineHooks {
  /**
   * Called before each step starts, with the result so far: `steps` then lists the
   * finished steps, this one as running and the rest as pending. A failing hook
   * never fails the pipeline (it is reporting, not deploying).
   */
  onStepStart?(progress: PipelineResult): Promise<void>;
  /** Called as soon as the run step has started a run (before any wait): a cancelled job cancels it. */
  onRunStarted?(run: RunResult): void;
}

export interface PipelineOptions {
  hooks?: PipelineHooks;
  /** What a run is called on the orchestrator; default 'run'. */
  runNoun?: string;
}

export async function runPipeline(
  d: ResolvedDeployment,
  steps: StepName[],
  orchestrator: Orchestrator,
  logger: Logger,
  { hooks = {}, runNoun = 'run' }: PipelineOptions = {},
): Promise<PipelineResult> {
  const result: PipelineResult = { orchestrator: d.orchestrator, runNoun, deploymentName: d.name, steps: [] };
  const requests = stepRequests(d);
  const planned: Array<StepReport['step']> = runningSteps(steps);
  if (planned.includes('run') && d.run.wait) planned.splice(planned.indexOf('run') + 1, 0, 'wait');

  const actions: Record<StepReport['step'], () => Promise<string>> = {
    plan: async () => {
      if (!orchestrator.plan) throw new UserError(`${d.orchestrator} cannot plan: it has no plan() method`);
      result.plan = await orchestrator.plan(requests.plan(plannedSteps(steps)));
      for (const line of result.plan.actions) logger.info(line);
      const changed = result.plan.files.filter((f) => f.change !== 'unchanged').length;
      return `plan of ${plannedSteps(steps).join(' → ')}: ${changed} of ${result.plan.files.length} files would change; nothing was changed`;
    },
    package: async () => {
      result.packaged = await orchestrator.package(requests.package());
      const { image, files, kept } = result.packaged;
      const wrote = files.length > 0 ? `wrote ${files.join(', ')}` : 'no files to write';
      return [image ? `image ${image}` : wrote, ...(kept ?? []).map((k) => `${k}: yours, used as it is`)].join('; ');
    },
    deploy: async () => {
      result.deployment = await orchestrator.deploy({ ...requests.deploy(), packaged: result.packaged });
      return `deployment ${result.deployment.name}`;
    },
    run: async () => {
      result.run = await orchestrator.run({ ...requests.run(), deployment: result.deployment });
      hooks.onRunStarted?.(result.run);
      // A run that has already ended badly (the local orchestrator runs to the end)
      // fails the pipeline even without wait; with wait, the wait step says why.
      if (!d.run.wait && isFailure(result.run.state)) {
        throw new RunFailedError(`Run ${result.run.id} of ${d.name} ended ${result.run.state}; see ${result.run.url}`);
      }
      // With wait, the state at creation is stale by the time anyone reads the report: the wait row says how it ended.
      return d.run.wait ? `${runNoun} ${result.run.id} started` : `${runNoun} ${result.run.id} ${result.run.state}`;
    },
    wait: async () => {
      const run = result.run!;
      try {
        result.run = await orchestrator.wait({
          run,
          timeoutMs: d.run.wait_timeout,
          pollMs: d.run.poll_interval,
        });
      } catch (error) {
        // The run as last seen (its final state, or the one at the wait-timeout).
        if (error instanceof RunFailedError && error.result) result.run = error.result;
        throw error;
      }
      return `final state ${result.run.state}`;
    },
    stop: async () => {
      result.stopped = await orchestrator.stop(requests.stop());
      if (!result.stopped.stopped) logger.warning(result.stopped.detail);
      return result.stopped.detail;
    },
  };

  for (const step of planned) {
    if (result.error) {
      result.steps.push({ step, status: 'skipped', durationMs: 0 });
      continue;
    }
    if (hooks.onStepStart) await reportProgress(hooks.onStepStart, result, step, planned, logger);
    const started = Date.now();
    try {
      const detail = await logger.group(step, actions[step]);
      result.steps.push({ step, status: 'success', durationMs: Date.now() - started, detail });
    } catch (error) {
      result.error = error instanceof Error ? error : new Error(String(error));
      result.steps.push({ step, status: 'failed', durationMs: Date.now() - started, detail: describeError(error) });
    }
  }
  return result;
}

/** Hands the hook a snapshot: the steps so far, `step` running and the rest pending. */
async function reportProgress(
  hook: NonNullable<PipelineHooks['onStepStart']>,
  result: PipelineResult,
  step: StepReport['step'],
  planned: ReadonlyArray<StepReport['step']>,
  logger: Logger,
): Promise<void> {
  const later = planned.slice(planned.indexOf(step) + 1);
  const snapshot: PipelineResult = {
    ...result,
    steps: [
      ...result.steps,
      { step, status: 'running', durationMs: 0 },
      ...later.map((s): StepReport => ({ step: s, status: 'pending', durationMs: 0 })),
    ],
  };
  try {
    await hook(snapshot);
  } catch (error) {
    logger.warning(`Could not report progress before ${step}: ${describeError(error)}`);
  }
}
