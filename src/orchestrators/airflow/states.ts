import type { DagRunState } from './api.js';

/**
 * Airflow's four DagRun states as the state types the rest of the tool knows (Prefect's):
 * queued → SCHEDULED (created, waiting for the scheduler to start a task), running →
 * RUNNING, success → COMPLETED, failed → FAILED, which pipeline.ts counts as a failure.
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
