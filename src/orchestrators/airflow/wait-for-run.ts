import { sleep } from '../../duration.js';
import { RunFailedError } from '../../errors.js';
import type { Logger } from '../../logger.js';
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
  const deadline = Date.now() + request.timeoutMs;
  const runId = request.run.id;
  let run = await read(api, dagId, runId);
  let last = '';
  while (!isTerminal(run.state)) {
    if (run.state !== last) logger.info(`DAG run ${runId}: ${run.state} (${stateType(run.state)})`);
    last = run.state;
    if (Date.now() >= deadline) {
      const hint = run.state === 'queued' ? '; is the DAG paused, or the scheduler down?' : '';
      throw Object.assign(
        new RunFailedError(`DAG run ${runId} of ${dagId} is still ${run.state} after ${Math.round(request.timeoutMs / 1000)} s (wait-timeout)${hint}: ${request.run.url}`),
        { result: { ...request.run, state: stateType(run.state) } },
      );
    }
    await sleep(Math.min(request.pollMs, Math.max(0, deadline - Date.now())));
    run = await read(api, dagId, runId);
  }
  const result = { ...request.run, state: stateType(run.state) };
  logger.info(`DAG run ${runId}: ${run.state} (${result.state})`);
  if (run.state !== 'success') {
    const why = await failureDetail(api, dagId, runId);
    throw Object.assign(new RunFailedError(`DAG run ${runId} of ${dagId} ended ${result.state}: ${why}\n(${request.run.url})`), { result });
  }
  return result;
}

async function read(api: AirflowApi, dagId: string, runId: string): Promise<DagRun> {
  const run = await api.readRun(dagId, runId);
  if (!run) throw new RunFailedError(`DAG run ${runId} of ${dagId} is gone (was the DAG deleted?)`);
  return run;
}
