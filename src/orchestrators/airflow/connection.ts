import { ConfigError } from '../../errors.js';
import { printableUrl, splitCredentials, type SplitUrl } from '../../http/url-credentials.js';
import type { AirflowConfig } from './config.js';

/**
 * Which REST API: Airflow 3's `/api/v2` (a JWT from /auth/token) or Airflow 2.x's
 * `/api/v1` (basic auth, the server's auth_backends must include basic_auth).
 */
export type AirflowApiVersion = 'v2' | 'v1';

/** How to reach an Airflow REST API. */
export interface AirflowConnection {
  /** Server root without a trailing slash, e.g. http://127.0.0.1:8080 (the API is under /api/v2 or /api/v1). */
  baseUrl: string;
  /** The API the URL names (…/api/v1, …/api/v2); undefined: asked of the server once. */
  apiVersion?: AirflowApiVersion;
  username?: string;
  password?: string;
  /** Base of UI links, without credentials. */
  uiUrl: string;
  /**
   * Values that must never be printed, for the client to register with its logger: the
   * password of AIRFLOW_API_URL or AIRFLOW_UI_URL as written, when it differs from
   * `password` (percent-encoded), and the UI URL's password.
   */
  secrets?: string[];
  /** What the user should know about the settings (a UI URL's credentials dropped). */
  warnings?: string[];
}

/**
 * The environment first (AIRFLOW_API_URL, AIRFLOW_USERNAME, AIRFLOW_PASSWORD,
 * AIRFLOW_UI_URL), then orchestrator.config. A URL ending in /api/v2 or /api/v1 is accepted too,
 * and names the API. A user and password in the API URL (`https://user:pw@host`) are
 * the credentials (as AIRFLOW_USERNAME and AIRFLOW_PASSWORD); in the UI URL they are
 * dropped, with a warning: a link needs none. No URL kept here carries credentials.
 */
export function resolveConnection(env: NodeJS.ProcessEnv, config: AirflowConfig): AirflowConnection {
  const pick = (name: string, fallback: string | undefined): string | undefined => {
    const value = env[name];
    return typeof value === 'string' && value !== '' ? value : fallback;
  };
  const url = pick('AIRFLOW_API_URL', config.api_url);
  if (!url) {
    throw new ConfigError(
      'AIRFLOW_API_URL is not set: add it to the workflow env (e.g. http://airflow.internal:8080) or set orchestrator.config.api_url',
    );
  }
  const api = checkUrl('AIRFLOW_API_URL', url);
  const named = /\/api\/(v1|v2)$/.exec(api.url);
  const baseUrl = named ? api.url.slice(0, named.index) : api.url;
  const uiUrl = pick('AIRFLOW_UI_URL', config.ui_url);
  const ui = uiUrl ? checkUrl('AIRFLOW_UI_URL', uiUrl) : undefined;
  let username = pick('AIRFLOW_USERNAME', config.username);
  let password = pick('AIRFLOW_PASSWORD', config.password);
  if (api.credentials) {
    if (username !== undefined || password !== undefined) {
      throw new ConfigError(
        `AIRFLOW_API_URL '${api.url}' carries a user and password and AIRFLOW_USERNAME/AIRFLOW_PASSWORD (or the config's username/password) are set too: keep one`,
      );
    }
    ({ username, password } = api.credentials);
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError(
      `${username ? 'AIRFLOW_PASSWORD' : 'AIRFLOW_USERNAME'} is not set but ${username ? 'AIRFLOW_USERNAME' : 'AIRFLOW_PASSWORD'} is: ` +
        'set both (or neither, for a server with simple_auth_manager_all_admins)',
    );
  }
  const secrets = [...api.secrets, ...(ui?.secrets ?? [])];
  const warning = ui?.credentials ? `AIRFLOW_UI_URL carries a user and password: left out of every link (${ui.url}); a UI link needs none` : undefined;
  return {
    baseUrl,
    apiVersion: named?.[1] as AirflowApiVersion | undefined,
    username,
    password,
    uiUrl: ui?.url ?? baseUrl,
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(warning ? { warnings: [warning] } : {}),
  };
}

/** Whether a server URL is configured anywhere resolveConnection looks. */
export function hasConnection(env: NodeJS.ProcessEnv, config: AirflowConfig): boolean {
  return Boolean(env.AIRFLOW_API_URL || config.api_url);
}

/** An http(s) URL without credentials, and the credentials it carried. */
function checkUrl(key: string, value: string): SplitUrl {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${key} '${printableUrl(value)}' is not a URL; expected e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${key} '${printableUrl(value)}' must be an http(s) URL`);
  return splitCredentials(value);
}
