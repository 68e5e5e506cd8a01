import { formatDuration } from '../../duration.js';
import type { Logger } from '../../logger.js';
import { poll } from '../../poll.js';
import { isTerminal } from '../orchestrator.js';
import type { FlowRun, PrefectApi } from './api.js';
import { prefectRunState } from './states.js';

/** What stop did to a deployment's in-flight flow runs. */
export interface CancelSummary {
  /** Runs that were scheduled, pending, running or paused. */
  found: number;
  /** Runs now CANCELLED. */
  cancelled: number;
  /** Runs that reached another terminal state first (ABORT, or ended while cancelling). */
  finished: number;
  /** Runs still CANCELLING at the timeout: no worker or serving process ended them. */
  cancelling: number;
}

export interface CancelOptions {
  logger: Logger;
  /** The whole of it: listing, cancelling and waiting, every HTTP call cut at the end (cancel_timeout). */
  timeoutMs: number;
  pollMs?: number;
  /**
   * For a run still CANCELLING that nothing else will end (kubernetes pools: its pod never
   * started the flow, so no Prefect runner is there to see the cancel): removes what runs
   * it and says what it did, or undefined to leave the run to its worker.
   */
  endUnstarted?: (run: FlowRun) => Promise<string | undefined>;
}

/**
 * Cancels every in-flight run of a deployment the way Prefect's UI does, and waits
 * for running ones to end. A scheduled run has no infrastructure: the server answers
 * REJECT with a CANCELLED state, which is success. A running one goes CANCELLING and
 * only its worker (or serving process) turns that into CANCELLED, so we wait for it —
 * deleting the deployment first would delete the run and leave its process alive.
 */
export async function cancelActiveRuns(api: PrefectApi, deploymentId: string, options: CancelOptions): Promise<CancelSummary> {
  const started = Date.now();
  // One deadline for every call: an HTTP call's own budget (45 s, retries included) would
  // otherwise outlast a short cancel_timeout many times over.
  const deadline = started + options.timeoutMs;
  return cancelFlowRuns(api, await api.activeFlowRuns(deploymentId, deadline), started, deadline, options);
}

/** Cancels these runs (as cancelActiveRuns), all by `deadline`; with no time left, asks without waiting. */
export async function cancelFlowRuns(api: PrefectApi, runs: FlowRun[], started: number, deadline: number, options: CancelOptions): Promise<CancelSummary> {
  const summary: CancelSummary = { found: runs.length, cancelled: 0, finished: 0, cancelling: 0 };
  const pending: string[] = [];
  for (const run of runs) {
    if (run.state?.type === 'CANCELLING') {
      pending.push(run.id);
      continue;
    }
    const answer = await api.cancelFlowRun(run.id, deadline);
    if (answer.state === 'CANCELLED') summary.cancelled += 1;
    else if (answer.status === 'ABORT' || isTerminal(prefectRunState(answer.state))) summary.finished += 1;
    else pending.push(run.id);
    options.logger.debug(`cancel ${run.name}: ${answer.status} → ${answer.state ?? '?'}${answer.reason ? ` (${answer.reason})` : ''}`);
  }
  if (pending.length > 0 && options.timeoutMs > 0) options.logger.info(`waiting for ${pending.length} running flow run(s) to be cancelled`);
  let waiting = pending;
  if (waiting.length > 0 && options.timeoutMs > 0) {
    await poll(
      async () => {
        const still: string[] = [];
        for (const id of waiting) {
          const run = await readRunBy(api, id, deadline);
          const state = run ? prefectRunState(run.state?.type) : 'CANCELLING';
          if (state === 'CANCELLED' || (run && state === 'CANCELLING' && (await endUnstarted(api, run, deadline, options)))) summary.cancelled += 1;
          else if (isTerminal(state)) summary.finished += 1;
          else still.push(id);
        }
        waiting = still;
        return still;
      },
      (still) => still.length === 0,
      { deadline, intervalMs: options.pollMs ?? 1000 },
    );
  }
  summary.cancelling = waiting.length;
  if (summary.cancelling > 0 && options.timeoutMs > 0) {
    options.logger.warning(
      `${summary.cancelling} flow run(s) are still CANCELLING after ${formatDuration(Date.now() - started)} (stop.cancel_timeout ${formatDuration(options.timeoutMs)}): ` +
        'no worker or serving process is alive to end them (raise stop.cancel_timeout, or check the worker)',
    );
  }
  return summary;
}

/** The run; undefined (CANCELLING, as last known) when the deadline cut the read (or came before it). */
async function readRunBy(api: PrefectApi, id: string, deadline: number): Promise<FlowRun | undefined> {
  if (Date.now() >= deadline) return undefined;
  try {
    return await api.readFlowRun(id, deadline);
  } catch (error) {
    if (Date.now() >= deadline) return undefined;
    throw error;
  }
}

/**
 * True when options.endUnstarted removed what runs this CANCELLING run and the server took
 * it as CANCELLED (Prefect's own worker does both when its cancellation is on). Only a run
 * whose flow never began (no start_time) is offered: a started one has a runner to end it.
 */
async function endUnstarted(api: PrefectApi, run: FlowRun, deadline: number, options: CancelOptions): Promise<boolean> {
  if (!options.endUnstarted || run.start_time) return false;
  const done = await options.endUnstarted(run);
  if (!done) return false;
  let answer: Awaited<ReturnType<PrefectApi['markCancelled']>>;
  try {
    answer = await api.markCancelled(run.id, `Cancelled by lolpop-deploy: ${done}`, deadline);
  } catch (error) {
    // The Job is gone already: that must be said, not lost behind the server's error.
    options.logger.warning(`flow run ${run.name}: ${done}, but marking it CANCELLED failed: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
  if (answer.state !== 'CANCELLED') {
    options.logger.warning(`flow run ${run.name}: ${done}, but the server answered ${answer.status} → ${answer.state ?? '?'} to CANCELLED${answer.reason ? ` (${answer.reason})` : ''}`);
    return false;
  }
  options.logger.info(`flow run ${run.name} CANCELLED: ${done}`);
  return true;
}

/** "cancelled 2 of 3 flow run(s) (1 had already finished)". */
export function describeCancel(summary: CancelSummary): string {
  if (summary.found === 0) return 'no flow run to cancel';
  const extra = [
    summary.finished ? `${summary.finished} had already finished` : '',
    summary.cancelling ? `${summary.cancelling} still cancelling` : '',
  ].filter(Boolean);
  return `cancelled ${summary.cancelled} of ${summary.found} flow run(s)${extra.length ? ` (${extra.join(', ')})` : ''}`;
}
