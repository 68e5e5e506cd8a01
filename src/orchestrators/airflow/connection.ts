import { ConfigError } from '../../errors.js';
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
  /** Base of UI links. */
  uiUrl: string;
}

/**
 * The environment first (AIRFLOW_API_URL, AIRFLOW_USERNAME, AIRFLOW_PASSWORD,
 * AIRFLOW_UI_URL), then orchestrator.config. A URL ending in /api/v2 or /api/v1 is accepted too,
 * and names the API.
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
  const checked = checkUrl('AIRFLOW_API_URL', url);
  const named = /\/api\/(v1|v2)$/.exec(checked);
  const baseUrl = named ? checked.slice(0, named.index) : checked;
  const uiUrl = pick('AIRFLOW_UI_URL', config.ui_url);
  const username = pick('AIRFLOW_USERNAME', config.username);
  const password = pick('AIRFLOW_PASSWORD', config.password);
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError(
      `${username ? 'AIRFLOW_PASSWORD' : 'AIRFLOW_USERNAME'} is not set but ${username ? 'AIRFLOW_USERNAME' : 'AIRFLOW_PASSWORD'} is: ` +
        'set both (or neither, for a server with simple_auth_manager_all_admins)',
    );
  }
  return { baseUrl, apiVersion: named?.[1] as AirflowApiVersion | undefined, username, password, uiUrl: uiUrl ? checkUrl('AIRFLOW_UI_URL', uiUrl) : baseUrl };
}

/** Whether a server URL is configured anywhere resolveConnection looks. */
export function hasConnection(env: NodeJS.ProcessEnv, config: AirflowConfig): boolean {
  return Boolean(env.AIRFLOW_API_URL || config.api_url);
}

function checkUrl(key: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${key} '${value}' is not a URL; expected e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${key} '${value}' must be an http(s) URL`);
  return value.replace(/\/+$/, '');
}
