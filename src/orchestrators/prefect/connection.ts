import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from '../../errors.js';
import { printableUrl, splitCredentials, type SplitUrl } from '../../http/url-credentials.js';

/** How to reach a Prefect API, read the way Prefect's own tools read it. */
export interface PrefectConnection {
  /** Base URL ending in /api (self-hosted) or /workspaces/<id> (Cloud); no trailing slash. */
  apiUrl: string;
  /** Cloud API key, sent as a Bearer token. */
  apiKey?: string;
  /**
   * `user:password` for a self-hosted server's basic auth: PREFECT_API_AUTH_STRING, or
   * the user and password written into PREFECT_API_URL (`http://user:pw@host/api`),
   * which leave the URL here so that no URL built from it carries them.
   */
  authString?: string;
  /** PREFECT_UI_URL, when the user set one. */
  uiUrl?: string;
  /** The Prefect profile that supplied settings, and its file, when one did. */
  profile?: string;
  profilesPath?: string;
  /**
   * Values that must never be printed, for the caller to register with its logger: the
   * password of PREFECT_API_URL or PREFECT_UI_URL, decoded and as written (the auth
   * string it became is registered with authString).
   */
  secrets?: string[];
  /** What the user should know about the settings (a UI URL's credentials dropped). */
  warnings?: string[];
  /**
   * PREFECT_API_REQUEST_TIMEOUT (seconds), Prefect's own setting: here the time one
   * try may wait for the response headers, and for each chunk of the body. The
   * client's defaults apply when unset (HTTP_DEFAULTS in src/http/limits.ts).
   */
  requestTimeoutMs?: number;
}

type PrefectSetting = 'PREFECT_API_URL' | 'PREFECT_API_KEY' | 'PREFECT_API_AUTH_STRING' | 'PREFECT_UI_URL' | 'PREFECT_API_REQUEST_TIMEOUT';

/**
 * Read as Prefect's own tools read them: the environment first; then the settings of
 * lolpop's `prefect_profile` in the user's Prefect profiles file (PREFECT_PROFILES_PATH,
 * else $PREFECT_HOME/profiles.toml, else ~/.prefect/profiles.toml); then the config's
 * `prefect_settings`. (lolpop applies prefect_settings only when it creates the profile;
 * here they fill in what the profile does not set.)
 */
export function resolveConnection(env: NodeJS.ProcessEnv, settings: Record<string, unknown> = {}, profileName = 'default'): PrefectConnection {
  const profile = readProfile(env, profileName);
  const read = (key: PrefectSetting): string | undefined => {
    for (const source of [env, profile?.settings ?? {}, settings]) {
      const value = source[key];
      if (typeof value === 'string' && value !== '') return value;
    }
    return undefined;
  };
  const apiUrl = read('PREFECT_API_URL');
  if (!apiUrl) {
    throw new ConfigError(
      'PREFECT_API_URL is not set: add it to the workflow env (e.g. http://prefect.example.com:4200/api), ' +
        `to the Prefect profile '${profileName}', or to orchestrator.config.prefect_settings`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(apiUrl);
  } catch {
    throw new ConfigError(`PREFECT_API_URL '${printableUrl(apiUrl)}' is not a URL; expected e.g. http://127.0.0.1:4200/api`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`PREFECT_API_URL '${printableUrl(apiUrl)}' must be an http(s) URL`);
  }
  const api = splitCredentials(apiUrl);
  let authString = read('PREFECT_API_AUTH_STRING');
  if (api.credentials) {
    if (authString !== undefined) {
      throw new ConfigError(
        `PREFECT_API_URL '${api.url}' carries a user and password and PREFECT_API_AUTH_STRING is set too: keep one (the auth string, or the URL's user:password@)`,
      );
    }
    authString = `${api.credentials.username}:${api.credentials.password}`;
  }
  const ui = uiSetting(read('PREFECT_UI_URL'));
  const timeout = read('PREFECT_API_REQUEST_TIMEOUT');
  let requestTimeoutMs: number | undefined;
  if (timeout !== undefined) {
    const seconds = Number(timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new ConfigError(`PREFECT_API_REQUEST_TIMEOUT '${timeout}' is not a number of seconds above 0 (e.g. 20 or 0.5)`);
    }
    requestTimeoutMs = Math.round(seconds * 1000);
  }
  const secrets = [...api.secrets, ...ui.secrets];
  return {
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(ui.warning ? { warnings: [ui.warning] } : {}),
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
    apiUrl: api.url,
    apiKey: read('PREFECT_API_KEY'),
    authString,
    uiUrl: ui.url,
    ...(profile ? { profile: profileName, profilesPath: profile.path } : {}),
  };
}

/** PREFECT_UI_URL without credentials: a link never needs them, and a link is printed everywhere. */
function uiSetting(value: string | undefined): { url?: string; secrets: string[]; warning?: string } {
  if (value === undefined) return { secrets: [] };
  let ui: SplitUrl;
  try {
    ui = splitCredentials(value);
  } catch {
    return { url: printableUrl(value).replace(/\/+$/, ''), secrets: [] };
  }
  if (!ui.credentials) return { url: ui.url, secrets: [] };
  return { url: ui.url, secrets: ui.secrets, warning: `PREFECT_UI_URL carries a user and password: left out of every link (${ui.url}); a UI link needs none` };
}

/** Whether a Prefect API URL is configured anywhere resolveConnection looks. */
export function hasConnection(env: NodeJS.ProcessEnv, settings: Record<string, unknown> = {}, profileName = 'default'): boolean {
  try {
    resolveConnection(env, settings, profileName);
    return true;
  } catch {
    return false;
  }
}

/** The file Prefect reads its profiles from. */
export function profilesPath(env: NodeJS.ProcessEnv): string {
  if (env.PREFECT_PROFILES_PATH) return env.PREFECT_PROFILES_PATH;
  const home = env.PREFECT_HOME || path.join(env.HOME || homedir(), '.prefect');
  return path.join(home, 'profiles.toml');
}

/**
 * The named profile's settings, or undefined when there is no profiles file or no such
 * profile (then, as in lolpop, prefect_settings apply). Values are kept as strings, as
 * Prefect's settings are.
 */
function readProfile(env: NodeJS.ProcessEnv, name: string): { settings: Record<string, string>; path: string } | undefined {
  const file = profilesPath(env);
  if (!existsSync(file)) return undefined;
  let data: Record<string, unknown>;
  try {
    data = parseToml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: not valid TOML (${(error as Error).message.split('\n')[0]}); it is the Prefect profiles file, read for prefect_profile '${name}'`);
  }
  const profiles = data.profiles as Record<string, unknown> | undefined;
  const profile = profiles?.[name];
  if (!profile || typeof profile !== 'object') return undefined;
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(profile)) settings[key] = String(value);
  return { settings, path: file };
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
