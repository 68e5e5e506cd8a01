/** The KFP UI's pages, as kfp.Client builds its links (client.py). */
export function runUrl(ui: string, runId: string): string {
  return `${ui}/#/runs/details/${encodeURIComponent(runId)}`;
}

export function pipelineVersionUrl(ui: string, pipelineId: string, versionId: string): string {
  return `${ui}/#/pipelines/details/${encodeURIComponent(pipelineId)}/version/${encodeURIComponent(versionId)}`;
}

/** The run id back from a run URL, for a wait without the run step in the same process. */
export function parseRunUrl(url: string): string | undefined {
  const match = /#\/runs\/details\/([^/?#]+)$/.exec(url);
  return match ? decodeURIComponent(match[1]!) : undefined;
}
