import { z } from 'zod';
import type { AirflowClient } from './client.js';
import type { AirflowApiVersion } from './connection.js';
import { airflow2LogEvents } from './log-v1.js';

// Only the fields this tool reads; Airflow's other fields pass through untouched.
export const Dag = z
  .object({
    dag_id: z.string(),
    is_paused: z.boolean(),
    is_stale: z.boolean().optional(),
    /** Airflow 2.x's word for not stale. */
    is_active: z.boolean().nullish(),
    has_import_errors: z.boolean().optional(),
    relative_fileloc: z.string().nullish(),
    file_token: z.string().nullish(),
    last_parsed_time: z.string().nullish(),
    tags: z.array(z.object({ name: z.string() })).default([]),
  })
  // One vocabulary for both APIs: a DAG whose file is gone is stale (Airflow 2: not active).
  .transform(({ is_active, ...dag }) => ({ ...dag, is_stale: dag.is_stale ?? (is_active === false ? true : undefined) }));
export type Dag = z.infer<typeof Dag>;

export const DagRunState = z.enum(['queued', 'running', 'success', 'failed']);
export type DagRunState = z.infer<typeof DagRunState>;

export const DagRun = z.object({
  dag_run_id: z.string(),
  dag_id: z.string(),
  state: DagRunState,
  conf: z.record(z.string(), z.unknown()).nullish(),
  queued_at: z.string().nullish(),
  start_date: z.string().nullish(),
  end_date: z.string().nullish(),
});
export type DagRun = z.infer<typeof DagRun>;

const DagRunList = z.object({ dag_runs: z.array(DagRun), total_entries: z.number() });
const DagList = z.object({ dags: z.array(Dag), total_entries: z.number() });

export const TaskInstance = z.object({
  task_id: z.string(),
  state: z.string().nullable(),
  try_number: z.number(),
});
export type TaskInstance = z.infer<typeof TaskInstance>;
const TaskInstanceList = z.object({ task_instances: z.array(TaskInstance), total_entries: z.number() });

export const ImportError = z.object({
  filename: z.string(),
  bundle_name: z.string().nullish(),
  timestamp: z.string(),
  stack_trace: z.string(),
});
export type ImportError = z.infer<typeof ImportError>;
const ImportErrorList = z.object({ import_errors: z.array(ImportError), total_entries: z.number() });

/** One structured event of a task log (Airflow 3 logs are JSON, not text). */
export const LogEvent = z
  .object({
    event: z.string().nullish(),
    level: z.string().nullish(),
    logger: z.string().nullish(),
    error_detail: z
      .array(z.object({ exc_type: z.string().nullish(), exc_value: z.string().nullish() }).loose())
      .nullish(),
  })
  .loose();
export type LogEvent = z.infer<typeof LogEvent>;
// Older readers may give a plain string; keep the events as objects either way.
const LogContent = z.object({ content: z.union([z.array(z.union([LogEvent, z.string()])), z.string()]) });

const Health = z.object({
  dag_processor: z.object({ status: z.string().nullable(), latest_dag_processor_heartbeat: z.string().nullish() }).nullish(),
  scheduler: z.object({ status: z.string().nullable(), latest_scheduler_heartbeat: z.string().nullish() }).nullish(),
});
export type Health = z.infer<typeof Health>;

const Empty = z.unknown();

/**
 * The body of a DAG-run trigger, for each API: Airflow 3 needs logical_date (null: none);
 * Airflow 2 refuses null and dates the run now. `runId` null: the server names the run.
 */
export function triggerBody(version: AirflowApiVersion, runId: string | null, conf: Record<string, unknown>): Record<string, unknown> {
  return version === 'v1' ? { ...(runId ? { dag_run_id: runId } : {}), conf } : { dag_run_id: runId, logical_date: null, conf };
}
const seg = encodeURIComponent;

/** The Airflow resources this tool uses, one method per REST call. */
export class AirflowApi {
  constructor(readonly client: AirflowClient) {}

  /** `GET /monitor/health` (Airflow 2: `/health`; no auth needed): is the scheduler / dag-processor alive? */
  async health(): Promise<Health> {
    const path = (await this.client.apiVersion()) === 'v1' ? 'health' : 'monitor/health';
    const res = await this.client.request('GET', path, { action: "read Airflow's health", schema: Health });
    return res.body as Health;
  }

  /** The DAG, or undefined while Airflow has not parsed it (404). */
  /** `deadline` (epoch ms), here and below: the call ends by then, when the caller's wait is shorter than a call's budget. */
  async readDag(dagId: string, deadline?: number): Promise<Dag | undefined> {
    const res = await this.client.request('GET', `dags/${seg(dagId)}`, { action: `read the DAG '${dagId}'`, schema: Dag, accept: [404], deadline });
    return res.status === 404 ? undefined : (res.body as Dag);
  }

  /** Any one DAG of a bundle (Airflow 2 has no bundles: any DAG), for a file_token to nudge the dag-processor with. */
  async anyDagOfBundle(bundle: string): Promise<Dag | undefined> {
    const searchParams = new URLSearchParams({ limit: '1' });
    if ((await this.client.apiVersion()) === 'v2') searchParams.set('bundle_name', bundle);
    const res = await this.client.request('GET', 'dags', { action: `list the DAGs of bundle '${bundle}'`, schema: DagList, searchParams });
    return (res.body as z.infer<typeof DagList>).dags[0];
  }

  /** Asks the dag-processor to parse a file now (and, as a side effect, to refresh its bundle). */
  async reparse(fileToken: string): Promise<void> {
    await this.client.request('PUT', `parseDagFile/${seg(fileToken)}`, { action: 'ask Airflow to parse the DAG file', schema: Empty });
  }

  /**
   * The import errors of a DAG file (relative to the DAGs folder). Airflow 2 cannot filter
   * by file and names it by its absolute path: the newest errors are read and matched.
   */
  async importErrors(filename: string): Promise<ImportError[]> {
    const v1 = (await this.client.apiVersion()) === 'v1';
    const searchParams = v1 ? new URLSearchParams({ limit: '100', order_by: '-import_error_id' }) : new URLSearchParams({ filename, limit: '10' });
    const res = await this.client.request('GET', 'importErrors', { action: `read the import errors of ${filename}`, schema: ImportErrorList, searchParams });
    const errors = (res.body as z.infer<typeof ImportErrorList>).import_errors;
    return v1 ? errors.filter((e) => e.filename === filename || e.filename.endsWith(`/${filename}`)) : errors;
  }

  async setPaused(dagId: string, paused: boolean): Promise<Dag> {
    const res = await this.client.request('PATCH', `dags/${seg(dagId)}`, {
      action: `${paused ? 'pause' : 'unpause'} the DAG '${dagId}'`,
      schema: Dag,
      json: { is_paused: paused },
    });
    return res.body as Dag;
  }

  /** Deletes the DAG's record and history; false when it was already gone. */
  async deleteDag(dagId: string, deadline?: number): Promise<boolean> {
    const res = await this.client.request('DELETE', `dags/${seg(dagId)}`, { action: `delete the DAG '${dagId}'`, schema: Empty, accept: [404], deadline });
    return res.status !== 404;
  }

  /**
   * Sets the Variable `key` to `value`: replaced when it exists (PATCH), else created (POST;
   * a 409 there means another step created it meanwhile, so it is replaced). The value is
   * sent, never read back.
   */
  async upsertVariable(key: string, value: string): Promise<'created' | 'updated'> {
    const action = `write the Airflow Variable '${key}'`;
    const updated = await this.client.request('PATCH', `variables/${seg(key)}`, { action, schema: Empty, json: { key, value }, accept: [404] });
    if (updated.status !== 404) return 'updated';
    const created = await this.client.request('POST', 'variables', { action, schema: Empty, json: { key, value }, accept: [409] });
    if (created.status !== 409) return 'created';
    await this.client.request('PATCH', `variables/${seg(key)}`, { action, schema: Empty, json: { key, value } });
    return 'updated';
  }

  /** Deletes the Variable `key`; false when there is none. */
  async deleteVariable(key: string): Promise<boolean> {
    const res = await this.client.request('DELETE', `variables/${seg(key)}`, { action: `delete the Airflow Variable '${key}'`, schema: Empty, accept: [404] });
    return res.status !== 404;
  }

  /** Triggers a run; undefined when a run with this id exists already (409). */
  async triggerRun(dagId: string, runId: string | null, conf: Record<string, unknown>): Promise<DagRun | undefined> {
    const res = await this.client.request('POST', `dags/${seg(dagId)}/dagRuns`, {
      action: `trigger a run of the DAG '${dagId}'`,
      schema: DagRun,
      json: triggerBody(await this.client.apiVersion(), runId, conf),
      // Marks the POST as safe to retry after a 500 (see AirflowClient).
      headers: runId ? { 'x-lolpop-run-id': runId } : {},
      accept: [409],
    });
    return res.status === 409 ? undefined : (res.body as DagRun);
  }

  async readRun(dagId: string, runId: string): Promise<DagRun | undefined> {
    const res = await this.client.request('GET', `dags/${seg(dagId)}/dagRuns/${seg(runId)}`, {
      action: `read the run ${runId} of '${dagId}'`,
      schema: DagRun,
      accept: [404],
    });
    return res.status === 404 ? undefined : (res.body as DagRun);
  }

  async runsInState(dagId: string, states: DagRunState[]): Promise<DagRun[]> {
    const searchParams = new URLSearchParams({ limit: '100' });
    for (const s of states) searchParams.append('state', s);
    const res = await this.client.request('GET', `dags/${seg(dagId)}/dagRuns`, {
      action: `list the ${states.join('/')} runs of '${dagId}'`,
      schema: DagRunList,
      searchParams,
    });
    return (res.body as z.infer<typeof DagRunList>).dag_runs;
  }

  async setRunState(dagId: string, runId: string, state: 'failed' | 'success' | 'queued'): Promise<DagRun> {
    const res = await this.client.request('PATCH', `dags/${seg(dagId)}/dagRuns/${seg(runId)}`, {
      action: `mark the run ${runId} of '${dagId}' ${state}`,
      schema: DagRun,
      json: { state },
    });
    return res.body as DagRun;
  }

  async taskInstances(dagId: string, runId: string, deadline?: number): Promise<TaskInstance[]> {
    const res = await this.client.request('GET', `dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances`, {
      action: `list the tasks of run ${runId}`,
      schema: TaskInstanceList,
      deadline,
    });
    return (res.body as z.infer<typeof TaskInstanceList>).task_instances;
  }

  /** A task try's log as structured events (plain strings become events). */
  async taskLog(dagId: string, runId: string, taskId: string, tryNumber: number, deadline?: number): Promise<LogEvent[]> {
    const path = `dags/${seg(dagId)}/dagRuns/${seg(runId)}/taskInstances/${seg(taskId)}/logs/${tryNumber}`;
    const action = `read the log of task ${taskId} (try ${tryNumber})`;
    const searchParams = new URLSearchParams({ full_content: 'true' });
    if ((await this.client.apiVersion()) === 'v1') {
      // Airflow 2's JSON form is a Python repr of (host, text) pairs; its plain text is the log itself.
      const res = await this.client.request('GET', path, { action, schema: z.unknown(), searchParams, headers: { accept: 'text/plain' }, accept: [200], deadline });
      return airflow2LogEvents(typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? ''));
    }
    const res = await this.client.request('GET', path, { action, schema: LogContent, searchParams, deadline });
    const content = (res.body as z.infer<typeof LogContent>).content;
    const items = typeof content === 'string' ? content.split('\n') : content;
    return items.map((item) => (typeof item === 'string' ? { event: item } : item));
  }
}
