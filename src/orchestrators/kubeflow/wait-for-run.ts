import { RunEndedError, RunTimeoutError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { poll } from '../../poll.js';
import type { RunResult, WaitRequest } from '../orchestrator.js';
import type { KfpRun, KubeflowApi } from './api.js';
import { isTerminal, stateType } from './states.js';

/**
 * Polls a KFP run to a final state (SUCCEEDED, SKIPPED, FAILED, CANCELED) or the
 * timeout, logging each change of state. Anything but success throws with the failing
 * task and its error, carrying the result so the final state is still reported.
 */
export async function waitForKfpRun(api: KubeflowApi, logger: Logger, request: WaitRequest): Promise<RunResult> {
  const runId = request.run.id;
  let last: string | undefined;
  const outcome = await poll(
    () => api.getRun(runId),
    (run) => isTerminal(run.state),
    {
      timeoutMs: request.timeoutMs,
      intervalMs: request.pollMs,
      onPending: (run) => {
        if (run.state !== last) logger.info(`KFP run ${runId}: ${run.state ?? 'no state yet'} (${stateType(run.state)})`);
        last = run.state;
      },
    },
  );
  const run = outcome.value;
  const result: RunResult = { ...request.run, state: stateType(run.state) };
  if (!outcome.done) {
    throw new RunTimeoutError(
      `KFP run ${runId} is still ${run.state ?? 'without a state'} after ${Math.round(request.timeoutMs / 1000)} s (wait-timeout): ${request.run.url}`,
      result,
      request.timeoutMs,
    );
  }
  logger.info(`KFP run ${runId}: ${run.state} (${result.state})`);
  if (result.state !== 'COMPLETED') {
    throw new RunEndedError(`KFP run ${runId} ended ${run.state}: ${failureDetail(run)}\n(${request.run.url})`, result);
  }
  return result;
}

/** The failing task and its error, else the run's own error, in one line. */
export function failureDetail(run: KfpRun): string {
  if (run.state === 'CANCELED') return 'it was terminated';
  const failed = (run.run_details?.task_details ?? []).filter((t) => t.state === 'FAILED' && t.error?.message);
  // The innermost failure says most: the DAG's own task only repeats it.
  const task = failed.at(-1);
  if (task) return `task '${task.display_name ?? '?'}' failed: ${oneLine(task.error!.message!)}`;
  if (run.error?.message) return oneLine(run.error.message);
  return 'KFP gave no error; see the run in the UI';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}

