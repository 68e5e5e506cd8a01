import { RunEndedError, RunFailedError, RunTimeoutError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { poll } from '../../poll.js';
import { isTerminal, type RunResult, type WaitRequest } from '../orchestrator.js';
import type { FlowRun, PrefectApi } from './api.js';
import { prefectRunState } from './states.js';

/**
 * Polls a flow run to a terminal state or the timeout, logging each change of
 * state. A finished run is not a successful run: anything but COMPLETED throws,
 * with the state message and the last error log line, and carries the result so
 * the final state is still reported.
 */
export async function waitForFlowRun(api: PrefectApi, logger: Logger, request: WaitRequest, pods?: PodCheck): Promise<RunResult> {
  let last = '';
  const outcome = await poll(
    () => api.readFlowRun(request.run.id),
    (run: FlowRun) => isTerminal(prefectRunState(run.state?.type)),
    {
      timeoutMs: request.timeoutMs,
      intervalMs: request.pollMs,
      onPending: async (run) => {
        const now = describeState(run);
        if (now !== last) logger.info(`Flow run ${run.name}: ${now}`);
        last = now;
        // A pod that cannot start (no image, no node for it) would keep the run PENDING until the worker gives up.
        const problem = run.state?.type === 'PENDING' ? await pods?.(run) : undefined;
        if (problem) {
          throw new RunFailedError(`Flow run ${run.name} cannot start: ${problem} (${request.run.url})`, { ...request.run, state: 'PENDING' });
        }
      },
    },
  );
  const run = outcome.value;
  if (!outcome.done) {
    const hint = run.state?.type === 'SCHEDULED' ? '; no worker seems to be polling its work pool' : '';
    // Carry the last state seen, so outputs and the report do not show the one at creation.
    throw new RunTimeoutError(
      `Flow run ${run.name} is still ${describeState(run)} after ${Math.round(request.timeoutMs / 1000)} s (wait-timeout)${hint}: ${request.run.url}`,
      { ...request.run, state: run.state?.type ? prefectRunState(run.state.type) : request.run.state },
      request.timeoutMs,
    );
  }
  const state = prefectRunState(run.state?.type);
  logger.info(`Flow run ${run.name}: ${state}`);
  const result: RunResult = { ...request.run, state };
  if (state !== 'COMPLETED') {
    const why = [await failureDetail(api, run), await pods?.(run)].filter(Boolean).join('; ');
    throw new RunEndedError(`Flow run ${run.name} ended ${state}${why ? `: ${why}` : ''} (${request.run.url})`, result);
  }
  return result;
}

/** Why the pod running a flow run fails, when it runs on a cluster this tool can read (kubernetes pools). */
export type PodCheck = (run: FlowRun) => Promise<string | undefined>;

/** "SCHEDULED (Late)": the type, and the name when it says more. */
function describeState(run: FlowRun): string {
  const type = run.state?.type ?? 'UNKNOWN';
  const name = run.state?.name;
  return name && name.toUpperCase() !== type ? `${type} (${name})` : type;
}

/** The state message, plus the last error log line when it adds something. */
async function failureDetail(api: PrefectApi, run: FlowRun): Promise<string> {
  const message = run.state?.message?.trim();
  try {
    const logs = await api.tailLogs(run.id);
    const error = [...logs].reverse().find((l) => l.level >= 40);
    const line = error?.message.split('\n').filter((l) => l.trim()).pop();
    if (line && (!message || !message.includes(line))) return message ? `${message} — ${line}` : line;
  } catch {
    // logs are a courtesy; the state message is enough
  }
  return message ?? '';
}
