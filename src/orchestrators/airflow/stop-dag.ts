import { formatDuration } from '../../duration.js';
import { OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { poll } from '../../poll.js';
import type { StopResult } from '../orchestrator.js';
import type { AirflowApi, DagRun, LogEvent, TaskInstance } from './api.js';
import { nudgeParsing } from './parse.js';

export interface StopDagOptions {
  dagId: string;
  mode: 'pause' | 'delete';
  /** Mark queued and running runs failed (Airflow kills the running task). */
  failRuns: boolean;
  /** How long a delete waits for killed tasks to let go (Airflow answers 409 meanwhile). */
  timeoutMs: number;
  /** Removes the DAG's files from where Airflow reads them; true when there were some. */
  removeFiles(): boolean | Promise<boolean>;
  /** The bundle to nudge parsing through (see nudgeParsing). */
  bundleName?: string | null;
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
    const { busy, ended: endedCount } = await failRuns(api, logger, dagId, runs, options.timeoutMs);
    const ended = endedCount > 0 ? `; ${endedCount} running task process(es) ended` : '';
    parts.push(
      runs.length === 0
        ? 'no queued or running run'
        : `marked ${runs.length} queued/running run(s) failed${busy > 0 ? ` (${busy} task(s) still running)` : ended}`,
    );
  }
  if (options.mode === 'pause') {
    if (!dag) return { stopped: false, detail: `no DAG ${dagId} on ${api.client.connection.baseUrl}: nothing to stop` };
    parts.unshift(`paused DAG ${dagId}${dag.is_paused ? ' (it already was)' : ''}`);
    return { stopped: true, detail: parts.join('; ') };
  }

  const removed = await options.removeFiles();
  parts.push(removed ? `removed the files of ${dagId}` : `no files of ${dagId} in the DAGs folder`);
  if (!dag) {
    return { stopped: removed, detail: `no DAG ${dagId} on ${api.client.connection.baseUrl}; ${parts.join('; ')}${removed ? '' : ': nothing to stop'}` };
  }
  // The file is gone: a parse of it now marks the DAG stale instead of bringing it back.
  // Wait for that before the DELETE: deleting the row while the dag-processor is marking
  // it stale crashes Airflow 3.3.2's dag-processor (StaleDataError in deactivate_deleted_dags).
  await nudgeParsing(api, logger, dag, options.bundleName);
  const deadline = Date.now() + options.timeoutMs;
  if (removed) {
    const gone = await awaitStale(api, dagId, deadline);
    if (!gone) logger.warning(`DAG ${dagId} is not marked stale yet after its files were removed; deleting it anyway`);
  }
  const deletion = await poll(
    async () => {
      try {
        return { deleted: await api.deleteDag(dagId, deadline) };
      } catch (error) {
        // 409: task instances still running (being killed); anything else is a real error.
        if (!(error instanceof OrchestratorError) || !/ 409/.test(error.message)) throw error;
        return { conflict: error };
      }
    },
    (answer): answer is { deleted: boolean } => 'deleted' in answer,
    { deadline, intervalMs: 1000 },
  );
  if (!deletion.done) throw deletion.value.conflict;
  parts.push(deletion.value.deleted ? `deleted DAG ${dagId}` : `DAG ${dagId} was already deleted`);
  return { stopped: true, detail: parts.join('; ') };
}

/**
 * Marks these runs failed (Airflow's way to cancel: the worker kills their running task)
 * and waits up to `timeoutMs` (0: does not wait) until their tasks have ended and, on
 * Airflow 3, until each task process running when it began is gone (its log's
 * "Task killed!"). Returns how many tasks were still busy, and how many processes ended.
 */
export async function failRuns(api: AirflowApi, logger: Logger, dagId: string, runs: readonly DagRun[], timeoutMs: number): Promise<{ busy: number; ended: number }> {
  // The tasks running now: stop waits until their processes are gone, not only their state.
  const running = timeoutMs > 0 ? await runningTasks(api, dagId, runs) : [];
  for (const run of runs) {
    await api.setRunState(dagId, run.dag_run_id, 'failed');
    logger.info(`marked run ${run.dag_run_id} (${run.state}) failed`);
  }
  if (timeoutMs <= 0) return { busy: 0, ended: 0 };
  const started = Date.now();
  const deadline = started + timeoutMs;
  let busy = await awaitTasksEnded(api, dagId, runs.map((r) => r.dag_run_id), deadline);
  let how = 'still show running';
  if (busy === 0) {
    busy = running.length - (await awaitKilled(api, dagId, running, deadline));
    how = `still running (their log has no "${TASK_KILLED}" yet)`;
  }
  if (busy > 0) {
    logger.warning(
      `${busy} task(s) of ${dagId} ${how} after ${formatDuration(Date.now() - started)} (stop.cancel_timeout ${formatDuration(timeoutMs)}; raise it, or check the worker)`,
    );
  }
  return { busy, ended: busy === 0 ? running.length : 0 };
}

/** Waits up to `timeoutMs` (0: not at all) for the tasks of these failed runs to end; returns how many still showed busy. */
export async function awaitRunsEnded(api: AirflowApi, logger: Logger, dagId: string, runIds: string[], timeoutMs: number): Promise<number> {
  if (timeoutMs <= 0) return 0;
  const started = Date.now();
  const busy = await awaitTasksEnded(api, dagId, runIds, started + timeoutMs);
  if (busy > 0) {
    logger.warning(
      `${busy} task(s) of ${dagId} still show running after ${formatDuration(Date.now() - started)} (stop.cancel_timeout ${formatDuration(timeoutMs)}; raise it, or check the worker)`,
    );
  }
  return busy;
}

/** Polls until Airflow has noticed the DAG's file is gone (stale, or already deleted). */
async function awaitStale(api: AirflowApi, dagId: string, deadline: number): Promise<boolean> {
  const outcome = await poll(() => api.readDag(dagId, deadline), (dag) => !dag || dag.is_stale === true, { deadline, intervalMs: 500 });
  return outcome.done;
}

/** Task states in which a task still holds (or may get) a worker slot. */
const BUSY = ['running', 'queued', 'scheduled', 'restarting', 'up_for_retry', 'up_for_reschedule', 'deferred'];

/**
 * Marking a run failed ends it at once, but its running task is killed by the worker a
 * few seconds later: wait for that, as Prefect's stop waits for CANCELLED. Returns how
 * many tasks are still busy at the deadline.
 */
async function awaitTasksEnded(api: AirflowApi, dagId: string, runIds: string[], deadline: number): Promise<number> {
  if (runIds.length === 0) return 0;
  let pending = runIds;
  // Until the first answer: a task per run, as far as we know.
  let busy = runIds.length;
  const outcome = await poll(
    async () => {
      const still: string[] = [];
      let count = 0;
      for (const runId of pending) {
        const tasks = await tasksBy(api, dagId, runId, deadline);
        // Cut at the deadline: what was busy at the last look still is, as far as we know.
        if (tasks === undefined) return busy;
        const running = tasks.filter((t) => t.state !== null && BUSY.includes(t.state)).length;
        if (running > 0) {
          still.push(runId);
          count += running;
        }
      }
      pending = still;
      busy = count;
      return busy;
    },
    (count) => count === 0,
    { deadline, intervalMs: 1000 },
  );
  return outcome.done ? 0 : outcome.value;
}

/** A task try that was running when stop began. */
interface RunningTask {
  runId: string;
  taskId: string;
  tryNumber: number;
}

async function runningTasks(api: AirflowApi, dagId: string, runs: readonly DagRun[]): Promise<RunningTask[]> {
  const found: RunningTask[] = [];
  for (const run of runs.filter((r) => r.state === 'running')) {
    for (const task of await api.taskInstances(dagId, run.dag_run_id)) {
      if (task.state === 'running') found.push({ runId: run.dag_run_id, taskId: task.task_id, tryNumber: task.try_number });
    }
  }
  return found;
}

/**
 * What Airflow 3's task supervisor writes into the task's log once it has killed the
 * task process (SIGTERM, then SIGKILL after a grace period), after the API told it the
 * task should not run any more: the state turns `failed` at once, the process ends 1–5 s
 * later (observed on 3.3.2).
 */
const TASK_KILLED = 'Task killed!';

/**
 * Waits until the log of each task that was running says its process was killed.
 * Airflow 2.10 (`/api/v1`) writes no such line into the task log: there the wait ends
 * with the task state (awaitTasksEnded). Returns how many are known to be gone.
 */
async function awaitKilled(api: AirflowApi, dagId: string, tasks: RunningTask[], deadline: number): Promise<number> {
  if (tasks.length === 0 || (await api.client.apiVersion()) === 'v1') return tasks.length;
  const gone = new Set<RunningTask>();
  await poll(
    async () => {
      for (const task of tasks.filter((t) => !gone.has(t))) {
        const events = await logBy(api, dagId, task, deadline);
        // Cut at the deadline: not known to be gone.
        if (events === undefined) break;
        if (events.some((e) => e.event === TASK_KILLED)) gone.add(task);
      }
      return gone.size;
    },
    (count) => count === tasks.length,
    { deadline, intervalMs: 1000 },
  );
  return gone.size;
}

/** A task try's log, or undefined when the deadline cut the read (or came before it). */
async function logBy(api: AirflowApi, dagId: string, task: RunningTask, deadline: number): Promise<LogEvent[] | undefined> {
  if (Date.now() >= deadline) return undefined;
  try {
    return await api.taskLog(dagId, task.runId, task.taskId, task.tryNumber, deadline);
  } catch (error) {
    if (Date.now() >= deadline) return undefined;
    throw error;
  }
}

/** A run's task instances, or undefined when the deadline cut the read (or came before it). */
async function tasksBy(api: AirflowApi, dagId: string, runId: string, deadline: number): Promise<TaskInstance[] | undefined> {
  if (Date.now() >= deadline) return undefined;
  try {
    return await api.taskInstances(dagId, runId, deadline);
  } catch (error) {
    if (Date.now() >= deadline) return undefined;
    throw error;
  }
}
