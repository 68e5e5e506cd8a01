import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { KubeflowConfig } from './config.js';

/** Where the KFP API is and what to send it, resolved once from the config and the environment. */
export interface KubeflowConnection {
  /** The host the API paths (`apis/v2beta1/…`) hang off, without a trailing slash. */
  host: string;
  /** The UI the links point at (`{ui}/#/runs/details/{id}`). */
  uiUrl: string;
  /** The auth headers: `authorization: Bearer …`, a `cookie`, or none. */
  headers: Record<string, string>;
  /** What must never be printed. */
  secrets: string[];
  /** The profile namespace (multi-user), or undefined (single-user). */
  namespace?: string;
}

/**
 * The config's keys, else the kfp SDK's environment variables: KF_PIPELINES_ENDPOINT,
 * KF_PIPELINES_UI_ENDPOINT, KF_PIPELINES_SA_TOKEN_PATH (the token file a pod mounts).
 */
export function resolveConnection(config: KubeflowConfig, env: NodeJS.ProcessEnv, workdir: string): KubeflowConnection {
  const host = (config.host ?? (env.KF_PIPELINES_ENDPOINT || undefined))?.replace(/\/+$/, '');
  if (!host) {
    throw new ConfigError(
      'orchestrator.config.host is not set (nor KF_PIPELINES_ENDPOINT): name the KFP API host, e.g. http://localhost:3000 after `kubectl port-forward svc/ml-pipeline-ui 3000:80`, or https://<gateway>/pipeline',
    );
  }
  if (!/^https?:\/\//.test(host)) throw new ConfigError(`orchestrator.config.host '${host}' is not an http(s) URL: write e.g. http://localhost:3000`);
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  const tokenPath = config.token_path ?? (config.token || config.cookie ? undefined : env.KF_PIPELINES_SA_TOKEN_PATH || undefined);
  const token = config.token ?? (tokenPath ? readToken(path.resolve(workdir, tokenPath)) : undefined);
  if (token) {
    headers.authorization = `Bearer ${token}`;
    secrets.push(token);
  }
  if (config.cookie) {
    headers.cookie = config.cookie;
    // The value after `name=` is the secret; the whole header too, as it is sent.
    secrets.push(config.cookie, ...config.cookie.split(';').map((part) => part.slice(part.indexOf('=') + 1).trim()).filter((v) => v.length >= 8));
  }
  const ui = (env.KF_PIPELINES_UI_ENDPOINT || config.ui_url || host).replace(/\/+$/, '');
  return { host, uiUrl: ui, headers, secrets, ...(config.namespace ? { namespace: config.namespace } : {}) };
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read the KFP token file ${file} (orchestrator.config.token_path / KF_PIPELINES_SA_TOKEN_PATH): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const token = text.trim();
  if (!token) throw new ConfigError(`The KFP token file ${file} is empty (orchestrator.config.token_path / KF_PIPELINES_SA_TOKEN_PATH)`);
  return token;
}
