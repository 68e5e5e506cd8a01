import { sleep } from '../../duration.js';
import { RunFailedError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { RunResult, WaitRequest } from '../orchestrator.js';
import { TERMINAL_STATES, type FlowRun, type PrefectApi } from './api.js';

/**
 * Polls a flow run to a terminal state or the timeout, logging each change of
 * state. A finished run is not a successful run: anything but COMPLETED throws,
 * with the state message and the last error log line, and carries the result so
 * the final state is still reported.
 */
export async function waitForFlowRun(api: PrefectApi, logger: Logger, request: WaitRequest): Promise<RunResult> {
  const deadline = Date.now() + request.timeoutMs;
  let run: FlowRun = await api.readFlowRun(request.run.id);
  let last = '';
  while (!TERMINAL_STATES.includes(run.state?.type ?? '')) {
    const now = describeState(run);
    if (now !== last) logger.info(`Flow run ${run.name}: ${now}`);
    last = now;
    if (Date.now() >= deadline) {
      const hint = run.state?.type === 'SCHEDULED' ? '; no worker seems to be polling its work pool' : '';
      // Carry the last state seen, so outputs and the report do not show the one at creation.
      throw Object.assign(
        new RunFailedError(`Flow run ${run.name} is still ${now} after ${Math.round(request.timeoutMs / 1000)} s (wait-timeout)${hint}: ${request.run.url}`),
        { result: { ...request.run, state: run.state?.type ?? request.run.state } },
      );
    }
    await sleep(Math.min(request.pollMs, Math.max(0, deadline - Date.now())));
    run = await api.readFlowRun(request.run.id);
  }
  const state = run.state?.type ?? 'UNKNOWN';
  logger.info(`Flow run ${run.name}: ${state}`);
  const result = { ...request.run, state };
  if (state !== 'COMPLETED') {
    const why = await failureDetail(api, run);
    throw Object.assign(new RunFailedError(`Flow run ${run.name} ended ${state}${why ? `: ${why}` : ''} (${request.run.url})`), { result });
  }
  return result;
}

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

