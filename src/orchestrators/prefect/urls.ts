import { isCloudUrl, type PrefectConnection } from './connection.js';

/**
 * The Prefect UI's base URL: PREFECT_UI_URL if set; for Cloud the app URL of
 * the same account/workspace; self-hosted: the API URL without its `/api`.
 */
export function uiBaseUrl(connection: PrefectConnection): string {
  if (connection.uiUrl) return connection.uiUrl;
  const api = connection.apiUrl;
  if (isCloudUrl(api)) {
    const match = /\/api\/accounts\/([^/]+)\/workspaces\/([^/]+)$/.exec(api)!;
    return `https://app.prefect.cloud/account/${match[1]}/workspace/${match[2]}`;
  }
  return api.replace(/\/api$/, '');
}

/**
 * Prefect 3's UI moved flow runs under /runs; 2.x keeps /flow-runs. The id is the
 * server's: encoded, it stays one path segment of the configured UI, whatever it holds.
 */
export function flowRunUrl(ui: string, serverMajor: number, id: string): string {
  const page = serverMajor >= 3 ? 'runs/flow-run' : 'flow-runs/flow-run';
  return `${ui}/${page}/${encodeURIComponent(id)}`;
}

export function deploymentUrl(ui: string, id: string): string {
  return `${ui}/deployments/deployment/${encodeURIComponent(id)}`;
}
