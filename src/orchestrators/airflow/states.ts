import type { RunState } from '../orchestrator.js';
import type { DagRunState } from './api.js';

/**
 * Airflow's four DagRun states as RunStates: queued → SCHEDULED (created, waiting for
 * the scheduler to start a task), running → RUNNING, success → COMPLETED, failed →
 * FAILED, which isFailure counts as a failure.
 */
export function stateType(state: DagRunState): RunState {
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
