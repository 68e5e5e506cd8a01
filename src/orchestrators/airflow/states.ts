import type { DagRunState } from './api.js';

/**
 * Airflow's DagRun states as the state types the rest of the tool knows (Prefect's):
 * queued → SCHEDULED (waiting for the scheduler) or PENDING (picked up, no task started yet
 * cannot be told apart over REST, so queued is always SCHEDULED), running → RUNNING,
 * success → COMPLETED, failed → FAILED. pipeline.ts treats FAILED as a failure.
 */
export function stateType(state: DagRunState): string {
  switch (state) {
    case 'queued':
      return 'SCHEDULED';
    case 'running':
      return 'RUNNING';
    case 'success':
      return 'COMPLETED';
    case 'failed':
      return 'FAILED';
  }
}

export function isTerminal(state: DagRunState): boolean {
  return state === 'success' || state === 'failed';
}
