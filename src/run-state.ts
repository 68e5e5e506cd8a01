/**
 * Where a run is, in one vocabulary for every orchestrator: Prefect's state types, which
 * lolpop users know. Each orchestrator maps its own states onto these in its folder
 * (prefect/states.ts, airflow/states.ts, local/state.ts).
 */
export const RUN_STATES = [
  /** Created, waiting for its time or for something to pick it up (Airflow: queued). */
  'SCHEDULED',
  /** Picked up, its infrastructure starting. */
  'PENDING',
  'RUNNING',
  'PAUSED',
  /** Asked to cancel; its worker has not ended it yet. */
  'CANCELLING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  /** Its process died from outside (killed, out of memory), not by the flow's own error. */
  'CRASHED',
  /** The orchestrator reported a state this tool does not know. */
  'UNKNOWN',
] as const;
export type RunState = (typeof RUN_STATES)[number];

/** Terminal states that are not success: the one place that decides what a failed run is. */
export const FAILURE_STATES: readonly RunState[] = ['FAILED', 'CRASHED', 'CANCELLED'];

/** Whether a run in this state has ended badly. */
export function isFailure(state: RunState): boolean {
  return FAILURE_STATES.includes(state);
}

/** Whether a run in this state has ended, well or badly. */
export function isTerminal(state: RunState): boolean {
  return state === 'COMPLETED' || isFailure(state);
}

/** A state as some orchestrator's string: itself when it is one of RUN_STATES, else UNKNOWN. */
export function asRunState(state: string | undefined | null): RunState {
  return (RUN_STATES as readonly string[]).includes(state ?? '') ? (state as RunState) : 'UNKNOWN';
}

export interface RunResult {
  id: string;
  url: string;
  /** The state at the time of the answer, in the shared vocabulary. */
  state: RunState;
  /** Whether this call created the run (false: an earlier one with the same idempotency key). */
  created: boolean;
}
