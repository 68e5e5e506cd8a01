import { ConfigError } from '../../errors.js';

/** How to reach a Prefect API, read the way Prefect's own tools read it. */
export interface PrefectConnection {
  /** Base URL ending in /api (self-hosted) or /workspaces/<id> (Cloud); no trailing slash. */
  apiUrl: string;
  /** Cloud API key, sent as a Bearer token. */
  apiKey?: string;
  /** `user:password` for a self-hosted server's basic auth (PREFECT_API_AUTH_STRING). */
  authString?: string;
  /** PREFECT_UI_URL, when the user set one. */
  uiUrl?: string;
}

type PrefectSetting = 'PREFECT_API_URL' | 'PREFECT_API_KEY' | 'PREFECT_API_AUTH_STRING' | 'PREFECT_UI_URL';

/**
 * The environment wins over `prefect_settings` in the config, as in Prefect
 * (where environment variables beat profile settings).
 */
export function resolveConnection(env: NodeJS.ProcessEnv, settings: Record<string, unknown> = {}): PrefectConnection {
  const read = (key: PrefectSetting): string | undefined => {
    const fromEnv = env[key];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const fromFile = settings[key];
    return typeof fromFile === 'string' && fromFile !== '' ? fromFile : undefined;
  };
  const apiUrl = read('PREFECT_API_URL');
  if (!apiUrl) {
    throw new ConfigError(
      'PREFECT_API_URL is not set: add it to the workflow env (e.g. http://prefect.example.com:4200/api) ' +
        'or to orchestrator.config.prefect_settings',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(apiUrl);
  } catch {
    throw new ConfigError(`PREFECT_API_URL '${apiUrl}' is not a URL; expected e.g. http://127.0.0.1:4200/api`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`PREFECT_API_URL '${apiUrl}' must be an http(s) URL`);
  }
  return {
    apiUrl: apiUrl.replace(/\/+$/, ''),
    apiKey: read('PREFECT_API_KEY'),
    authString: read('PREFECT_API_AUTH_STRING'),
    uiUrl: read('PREFECT_UI_URL')?.replace(/\/+$/, ''),
  };
}

export function isCloudUrl(apiUrl: string): boolean {
  return /\/api\/accounts\/[^/]+\/workspaces\/[^/]+$/.test(apiUrl) && /(^|\.)prefect\.cloud$/.test(new URL(apiUrl).hostname);
}

/** The Authorization header value, or undefined. Never both schemes at once. */
export function authorizationHeader(connection: PrefectConnection): string | undefined {
  if (connection.apiKey && (isCloudUrl(connection.apiUrl) || !connection.authString)) {
    return `Bearer ${connection.apiKey}`;
  }
  if (connection.authString) return `Basic ${Buffer.from(connection.authString, 'utf8').toString('base64')}`;
  return undefined;
}
