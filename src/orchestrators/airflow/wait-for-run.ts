import { RunEndedError, RunFailedError, RunTimeoutError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { poll } from '../../poll.js';
import type { RunResult, WaitRequest } from '../orchestrator.js';
import type { AirflowApi, DagRun } from './api.js';
import { failureDetail } from './failure.js';
import { isTerminal, stateType } from './states.js';

/**
 * Polls a DAG run to success/failed or the timeout, logging each change of state.
 * Anything but success throws, with the failed task and the end of its log, and
 * carries the result so the final state is still reported.
 */
export async function waitForDagRun(api: AirflowApi, logger: Logger, dagId: string, request: WaitRequest): Promise<RunResult> {
  const runId = request.run.id;
  let last = '';
  const outcome = await poll(
    () => read(api, dagId, runId),
    (run) => isTerminal(run.state),
    {
      timeoutMs: request.timeoutMs,
      intervalMs: request.pollMs,
      onPending: (run) => {
        if (run.state !== last) logger.info(`DAG run ${runId}: ${run.state} (${stateType(run.state)})`);
        last = run.state;
      },
    },
  );
  const run = outcome.value;
  const result: RunResult = { ...request.run, state: stateType(run.state) };
  if (!outcome.done) {
    const hint = run.state === 'queued' ? '; is the DAG paused, or the scheduler down?' : '';
    throw new RunTimeoutError(
      `DAG run ${runId} of ${dagId} is still ${run.state} after ${Math.round(request.timeoutMs / 1000)} s (wait-timeout)${hint}: ${request.run.url}`,
      result,
      request.timeoutMs,
    );
  }
  logger.info(`DAG run ${runId}: ${run.state} (${result.state})`);
  if (run.state !== 'success') {
    const why = await failureDetail(api, dagId, runId);
    throw new RunEndedError(`DAG run ${runId} of ${dagId} ended ${result.state}: ${why}\n(${request.run.url})`, result);
  }
  return result;
}

async function read(api: AirflowApi, dagId: string, runId: string): Promise<DagRun> {
  const run = await api.readRun(dagId, runId);
  if (!run) throw new RunFailedError(`DAG run ${runId} of ${dagId} is gone (was the DAG deleted?)`);
  return run;
}
