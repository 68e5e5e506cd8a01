import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { printableUrl } from '../http/url-credentials.js';

/** How to reach one cluster: what the current context of a kubeconfig names. */
export interface ClusterAccess {
  /** The API server's base URL, e.g. https://127.0.0.1:6443. */
  server: string;
  /** Where it came from, for messages: `<file> (context <name>)`. */
  source: string;
  ca?: Buffer;
  insecure: boolean;
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /**
   * The cluster's `proxy-url` as written (credentials included: they go to the proxy, never
   * into a message), an http:// or https:// proxy; it wins over HTTPS_PROXY/NO_PROXY, as in kubectl.
   */
  proxyUrl?: string;
}

interface Kubeconfig {
  'current-context'?: string;
  contexts?: Array<{ name: string; context?: { cluster?: string; user?: string } }>;
  clusters?: Array<{ name: string; cluster?: Record<string, unknown> }>;
  users?: Array<{ name: string; user?: Record<string, unknown> }>;
}

/**
 * The kubeconfig file kubectl would read: the first existing file of KUBECONFIG
 * (a path list), else ~/.kube/config; undefined when there is none (no cluster configured).
 */
export function kubeconfigPath(env: NodeJS.ProcessEnv): string | undefined {
  const candidates = env.KUBECONFIG ? env.KUBECONFIG.split(path.delimiter).filter(Boolean) : env.HOME ? [path.join(env.HOME, '.kube', 'config')] : [];
  return candidates.find((file) => existsSync(file));
}

/**
 * The current context's cluster and credentials. Supported: server, certificate-authority(-data),
 * insecure-skip-tls-verify, proxy-url (http/https), token(-file), client-certificate(-data)/client-key(-data). Anything
 * else that authenticates (exec plugins, auth-provider, username/password) is refused by name:
 * silently sending no credentials would only surface later as a puzzling 401.
 */
export function loadKubeconfig(file: string, context?: string): ClusterAccess {
  const where = (detail: string) => `kubeconfig ${file}: ${detail}`;
  let config: Kubeconfig;
  try {
    config = (parse(readFileSync(file, 'utf8')) ?? {}) as Kubeconfig;
  } catch (error) {
    throw new ConfigError(where(`cannot be read (${(error as Error).message.split('\n')[0]})`));
  }
  const name = context ?? config['current-context'];
  if (!name) throw new ConfigError(where('no current-context; set one (kubectl config use-context NAME)'));
  const ctx = config.contexts?.find((c) => c.name === name)?.context;
  if (!ctx) throw new ConfigError(where(`context '${name}' is not defined under contexts`));
  const cluster = config.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new ConfigError(where(`context '${name}' names cluster '${ctx.cluster}', which has no server`));
  const user = (ctx.user ? config.users?.find((u) => u.name === ctx.user)?.user : undefined) ?? {};
  for (const key of ['exec', 'auth-provider', 'username', 'password', 'as']) {
    if (user[key] !== undefined) {
      throw new ConfigError(where(`users[${ctx.user}].user.${key} is not supported; use a token (e.g. a ServiceAccount's) or a client certificate`));
    }
  }
  const dir = path.dirname(file);
  const bytes = (data: unknown, fileKey: unknown, what: string): Buffer | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof fileKey !== 'string') return undefined;
    const resolved = path.resolve(dir, fileKey);
    if (!existsSync(resolved)) throw new ConfigError(where(`${what} ${resolved} does not exist`));
    return readFileSync(resolved);
  };
  const tokenFile = bytes(undefined, user['token-file'], 'token-file');
  return {
    server: cluster.server.replace(/\/+$/, ''),
    source: `${file} (context ${name})`,
    ca: bytes(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate-authority'),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    token: typeof user.token === 'string' ? user.token : tokenFile?.toString('utf8').trim(),
    cert: bytes(user['client-certificate-data'], user['client-certificate'], 'client-certificate'),
    key: bytes(user['client-key-data'], user['client-key'], 'client-key'),
    proxyUrl: proxyUrlOf(cluster['proxy-url'], (detail) => where(`clusters[${ctx.cluster}].cluster.proxy-url ${detail}`)),
  };
}

/**
 * A cluster's `proxy-url`, checked: kubectl takes http, https and socks5 proxies; the first
 * two are supported here (undici's ProxyAgent), socks5 is refused by name rather than
 * ignored (the API server would then be dialled directly, which the key says not to do).
 */
function proxyUrlOf(value: unknown, where: (detail: string) => string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(where(`must be a URL such as http://proxy.example:3128, not ${typeof value}`));
  // The value is not echoed unless it is a URL with an authority (printableUrl can take the password out of that only).
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme?.startsWith('socks')) {
    throw new ConfigError(where(`is a ${scheme} proxy (${printableUrl(value)}), which is not supported; use an http:// or https:// proxy`));
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw new ConfigError(where(scheme ? `has the scheme ${scheme}; use an http:// or https:// proxy` : 'must be a URL starting with http:// or https://, such as http://proxy.example:3128'));
  }
  try {
    new URL(value);
  } catch {
    // Not echoed: what is a password in a value that does not parse cannot be told for sure.
    throw new ConfigError(where('is not a valid URL (not shown: it may hold a password); use http://[user:password@]host:port'));
  }
  return value;
}
