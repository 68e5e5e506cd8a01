import * as core from '@actions/core';
import type { CiContext } from '../ci-context.js';
import { cancelStartedRun } from '../cancel-run.js';
import { loadConfig } from '../config/load.js';
import { sleep } from '../duration.js';
import { describeError } from '../errors.js';
import { isTerminal, type CancelResult, type RunResult } from '../orchestrators/orchestrator.js';
import { orchestratorLookup } from '../orchestrators/registry.js';
import { HANDLED_SIGNALS } from '../process/signals.js';
import type { CoreLogger } from './core-logger.js';
import type { ActionSettings } from './inputs.js';
import type { PreviewDecision } from './preview.js';

/** A run the main step started, as the post step (or a signal) needs it to cancel it. */
export interface StartedRun {
  /** Its config file (absolute), loaded again to open its orchestrator. */
  config: string;
  /** Its deployment's name, for the report. */
  name: string;
  orchestrator: string;
  run: RunResult;
}

/** Cancels one started run; `wait`: until it ended (the post step), else only ask. */
export type CancelStarted = (started: StartedRun, wait: boolean) => Promise<CancelResult>;

/*
 * What the main step hands the post step (core.saveState → the runner → STATE_* in the
 * post step's environment). `isPost` is how dist/index.js knows which of the two it is.
 */
const IS_POST = 'isPost';
const RUNS = 'started-runs';
const FINISHED = 'finished';

/**
 * After a signal, how long the main step spends asking the orchestrators to cancel before
 * it exits: inside the runner's 7.5 s between SIGINT and SIGTERM. The post step then waits
 * for the runs to end.
 */
const SIGNAL_BUDGET_MS = 5000;

export function isPostStep(): boolean {
  return core.getState(IS_POST) === 'true';
}

/** What the post step reads: the runs the main step started, unless it finished. */
export function unfinishedRuns(): StartedRun[] {
  if (core.getState(FINISHED) === 'true') return [];
  const text = core.getState(RUNS);
  return text ? (JSON.parse(text) as StartedRun[]) : [];
}

/** The one way main and post cancel a started run: its config loaded as the main step did. */
export function cancelWith(settings: ActionSettings, plan: PreviewDecision, ci: CiContext, logger: CoreLogger): CancelStarted {
  return async (started, wait) => {
    const config = await loadConfig(started.config, plan.overrides, orchestratorLookup, process.env, settings.workingDirectory, { unknownOrchestrator: 'fail' });
    return cancelStartedRun(config, started.run, { logger, env: process.env, ci, workdir: settings.workingDirectory, registry: settings.registry }, wait);
  };
}

/**
 * The main step's side of cancellation. Each run started is saved for the post step, and
 * while one is in flight SIGINT/SIGTERM (the runner cancelling the job, or its timeout)
 * asks its orchestrator to cancel it, then ends this process as the signal asked. A second
 * signal ends it at once. When the step ends by itself it says so, and the post step
 * does nothing. Off (`cancel-on-job-cancel: false`): nothing is saved, no signal handled.
 */
export class JobCancellation {
  private readonly runs: StartedRun[] = [];
  private signalled = false;
  private readonly listener = (signal: NodeJS.Signals) => void this.onSignal(signal);
  private how?: { cancel: CancelStarted; logger: CoreLogger };

  /** First thing in the main step: from here on, dist/index.js run again is the post step. */
  constructor() {
    core.saveState(IS_POST, 'true');
  }

  /** Once the inputs are read, with cancel-on-job-cancel true: how to cancel. */
  enable(cancel: CancelStarted, logger: CoreLogger): void {
    this.how = { cancel, logger };
  }

  started(config: string, name: string, orchestrator: string, run: RunResult): void {
    // A run that already ended (the local orchestrator runs to the end) has nothing to cancel.
    if (!this.how || isTerminal(run.state)) return;
    if (this.runs.length === 0) for (const signal of HANDLED_SIGNALS) process.on(signal, this.listener);
    this.runs.push({ config, name, orchestrator, run });
    core.saveState(RUNS, JSON.stringify(this.runs));
  }

  finished(): void {
    core.saveState(FINISHED, 'true');
    for (const signal of HANDLED_SIGNALS) process.off(signal, this.listener);
  }

  private async onSignal(signal: NodeJS.Signals): Promise<void> {
    if (!this.signalled) {
      this.signalled = true;
      core.warning(`Received ${signal} (the job was cancelled or timed out): cancelling ${this.runs.map((r) => `run ${r.run.id} of ${r.name}`).join(', ')}`);
      const asked = Promise.all(
        this.runs.map(async (started) => {
          try {
            const result = await this.how!.cancel(started, false);
            core.info(`${started.name}: ${result.detail}`);
          } catch (error) {
            core.warning(this.how!.logger.redact(`${started.name}: could not cancel run ${started.run.id}: ${describeError(error)} (the post step tries again)`));
          }
        }),
      );
      await Promise.race([asked, sleep(SIGNAL_BUDGET_MS)]);
    }
    for (const handled of HANDLED_SIGNALS) process.off(handled, this.listener);
    process.kill(process.pid, signal);
  }
}
