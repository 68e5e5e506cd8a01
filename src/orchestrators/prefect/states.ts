import { asRunState, type RunState } from '../orchestrator.js';

/**
 * A Prefect state type as a RunState: the shared vocabulary is Prefect's own (SCHEDULED,
 * PENDING, RUNNING, PAUSED, CANCELLING, COMPLETED, FAILED, CANCELLED, CRASHED), so each
 * maps to itself; a missing type, or one a later Prefect adds, is UNKNOWN.
 */
export function prefectRunState(type: string | null | undefined): RunState {
  return asRunState(type);
}
