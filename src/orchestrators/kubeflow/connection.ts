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
 * The config's keys, else the environment: the kfp SDK's KF_PIPELINES_ENDPOINT,
 * KF_PIPELINES_UI_ENDPOINT and KF_PIPELINES_SA_TOKEN_PATH (the token file a pod mounts),
 * and this tool's KF_PIPELINES_TOKEN / KF_PIPELINES_COOKIE beside them.
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
  // The file's key, else the environment's: a runner config read by lolpop (OmegaConf)
  // cannot hold a ${ENV} reference, so a credential there comes from the environment.
  const cookie = config.cookie ?? (env.KF_PIPELINES_COOKIE || undefined);
  const tokenPath = config.token_path ?? (env.KF_PIPELINES_SA_TOKEN_PATH || undefined);
  const token = config.token ?? (env.KF_PIPELINES_TOKEN || undefined) ?? (tokenPath && !cookie ? readToken(path.resolve(workdir, tokenPath)) : undefined);
  if (token && cookie) {
    throw new ConfigError(
      'Kubeflow Pipelines gets two credentials, a bearer token (orchestrator.config.token / KF_PIPELINES_TOKEN) and a cookie (orchestrator.config.cookie / KF_PIPELINES_COOKIE): keep one',
    );
  }
  if (token) {
    headers.authorization = `Bearer ${token}`;
    secrets.push(token);
  }
  if (cookie) {
    headers.cookie = cookie;
    // The value after `name=` is the secret; the whole header too, as it is sent.
    secrets.push(cookie, ...cookie.split(';').map((part) => part.slice(part.indexOf('=') + 1).trim()).filter((v) => v.length >= 8));
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
