import type { AirflowApiVersion } from './connection.js';

/** The DAG's page: `{ui}/dags/{dag_id}` in the Airflow 3 UI, `{ui}/dags/{dag_id}/grid` in Airflow 2's. */
export function dagUrl(ui: string, dagId: string, version: AirflowApiVersion): string {
  const page = `${ui}/dags/${encodeURIComponent(dagId)}`;
  return version === 'v1' ? `${page}/grid` : page;
}

/**
 * What Airflow itself links a DAG run to: `{ui}/dags/{dag_id}/runs/{run_id}` (Airflow 3),
 * `{ui}/dags/{dag_id}/grid?dag_run_id={run_id}` (Airflow 2).
 */
export function dagRunUrl(ui: string, dagId: string, runId: string, version: AirflowApiVersion): string {
  const dag = `${ui}/dags/${encodeURIComponent(dagId)}`;
  return version === 'v1' ? `${dag}/grid?${new URLSearchParams({ dag_run_id: runId }).toString()}` : `${dag}/runs/${encodeURIComponent(runId)}`;
}

/** The DAG and run ids back from a run URL (either UI's), for a wait without the run step in the same process. */
export function parseDagRunUrl(url: string): { dagId: string; runId: string } | undefined {
  const v3 = /\/dags\/([^/]+)\/runs\/([^/?#]+)$/.exec(url);
  if (v3) return { dagId: decodeURIComponent(v3[1]!), runId: decodeURIComponent(v3[2]!) };
  const v2 = /\/dags\/([^/]+)\/grid\?(.*)$/.exec(url);
  const runId = v2 ? new URLSearchParams(v2[2]).get('dag_run_id') : null;
  return v2 && runId ? { dagId: decodeURIComponent(v2[1]!), runId } : undefined;
}
