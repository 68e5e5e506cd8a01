import { sleep } from '../../duration.js';
import { OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { StopResult } from '../orchestrator.js';
import type { AirflowApi } from './api.js';
import { nudgeParsing } from './parse.js';

export interface StopDagOptions {
  dagId: string;
  mode: 'pause' | 'delete';
  /** Mark queued and running runs failed (Airflow kills the running task). */
  failRuns: boolean;
  /** How long a delete waits for killed tasks to let go (Airflow answers 409 meanwhile). */
  timeoutMs: number;
  /** Removes the DAG's files from the DAGs folder; true when there were some. */
  removeFiles(): boolean;
}

/**
 * Stops a deployment: pause first, so nothing new starts; then mark its queued and
 * running runs failed when asked (pausing alone lets a running run finish); for a
 * delete, remove the files and reparse (or the next parse brings the DAG back), then
 * DELETE the DAG with its history. What is already gone is a notice, not an error.
 */
export async function stopDag(api: AirflowApi, logger: Logger, options: StopDagOptions): Promise<StopResult> {
  const { dagId } = options;
  const dag = await api.readDag(dagId);
  const parts: string[] = [];
  if (dag && !dag.is_paused) await api.setPaused(dagId, true);
  if (dag && options.failRuns) {
    const runs = await api.runsInState(dagId, ['queued', 'running']);
    for (const run of runs) {
      await api.setRunState(dagId, run.dag_run_id, 'failed');
      logger.info(`marked run ${run.dag_run_id} (${run.state}) failed`);
    }
    parts.push(runs.length === 0 ? 'no queued or running run' : `marked ${runs.length} queued/running run(s) failed`);
  }
  if (options.mode === 'pause') {
    if (!dag) return { stopped: false, detail: `no DAG ${dagId} on ${api.client.connection.baseUrl}: nothing to stop` };
    parts.unshift(`paused DAG ${dagId}${dag.is_paused ? ' (it already was)' : ''}`);
    return { stopped: true, detail: parts.join('; ') };
  }

  const removed = options.removeFiles();
  parts.push(removed ? `removed the files of ${dagId}` : `no files of ${dagId} in the DAGs folder`);
  if (!dag) {
    return { stopped: removed, detail: `no DAG ${dagId} on ${api.client.connection.baseUrl}; ${parts.join('; ')}${removed ? '' : ': nothing to stop'}` };
  }
  // The file is gone: a parse of it now marks the DAG stale instead of bringing it back.
  await nudgeParsing(api, logger, dag);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      const deleted = await api.deleteDag(dagId);
      parts.push(deleted ? `deleted DAG ${dagId}` : `DAG ${dagId} was already deleted`);
      break;
    } catch (error) {
      // 409: task instances still running (being killed); anything else is a real error.
      if (!(error instanceof OrchestratorError) || !/ 409/.test(error.message) || Date.now() >= deadline) throw error;
      await sleep(1000);
    }
  }
  return { stopped: true, detail: parts.join('; ') };
}
