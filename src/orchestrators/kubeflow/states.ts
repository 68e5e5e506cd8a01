import type { RunState } from '../orchestrator.js';

/** KFP v2's run states (v2beta1RuntimeState). */
export type KfpRunState =
  | 'RUNTIME_STATE_UNSPECIFIED'
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'SKIPPED'
  | 'FAILED'
  | 'CANCELING'
  | 'CANCELED'
  | 'PAUSED';

/**
 * KFP's states as RunStates. SKIPPED (every task skipped, e.g. by a condition) ended
 * without error: COMPLETED. A run not yet given a state is SCHEDULED.
 */
export function stateType(state: string | undefined): RunState {
  switch (state as KfpRunState | undefined) {
    case undefined:
    case 'RUNTIME_STATE_UNSPECIFIED':
      return 'SCHEDULED';
    case 'PENDING':
      return 'PENDING';
    case 'RUNNING':
      return 'RUNNING';
    case 'PAUSED':
      return 'PAUSED';
    case 'CANCELING':
      return 'CANCELLING';
    case 'SUCCEEDED':
    case 'SKIPPED':
      return 'COMPLETED';
    case 'FAILED':
      return 'FAILED';
    case 'CANCELED':
      return 'CANCELLED';
    default:
      return 'UNKNOWN';
  }
}

/**
 * Final states: CANCELED among them, which kfp.Client's wait_for_run_completion does not
 * stop on (it polls a cancelled run until its timeout).
 */
export function isTerminal(state: string | undefined): boolean {
  return state === 'SUCCEEDED' || state === 'SKIPPED' || state === 'FAILED' || state === 'CANCELED';
}
