/** `{ui}/dags/{dag_id}`: the DAG's page in the Airflow 3 UI. */
export function dagUrl(ui: string, dagId: string): string {
  return `${ui}/dags/${encodeURIComponent(dagId)}`;
}

/** `{ui}/dags/{dag_id}/runs/{run_id}`: what Airflow itself links a DAG run to. */
export function dagRunUrl(ui: string, dagId: string, runId: string): string {
  return `${dagUrl(ui, dagId)}/runs/${encodeURIComponent(runId)}`;
}

/** The DAG and run ids back from a run URL, for a wait without the run step in the same process. */
export function parseDagRunUrl(url: string): { dagId: string; runId: string } | undefined {
  const match = /\/dags\/([^/]+)\/runs\/([^/?#]+)$/.exec(url);
  return match ? { dagId: decodeURIComponent(match[1]!), runId: decodeURIComponent(match[2]!) } : undefined;
}
