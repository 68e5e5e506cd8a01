import { Pool, ProxyAgent, errors, type buildConnector, type Dispatcher } from 'undici';
import { environmentProxyAgent, proxyVariableOf, proxyVariableValues } from '../http/proxy.js';
import { printableUrl, splitCredentials } from '../http/url-credentials.js';
import type { Logger } from '../logger.js';
import type { ClusterAccess } from './kubeconfig.js';

/** The proxy a call went through, as a message may name it: its URL without credentials, and where it was set. */
export interface ProxyInUse {
  proxy: string;
  from: string;
}

/** A connection to the proxy itself failed (refused, timed out, its TLS): the proxy, not the API server, is what to check. */
export class ProxyUnreachable extends Error {
  constructor(
    readonly route: ProxyInUse,
    cause: Error,
  ) {
    super(cause.message, { cause });
  }
}

/**
 * How the Kubernetes client reaches its API server, as kubectl does: the cluster's
 * `proxy-url` when the kubeconfig gives one (NO_PROXY does not apply to it), else the
 * proxy variables through the same EnvHttpProxyAgent every other client uses
 * (src/http/proxy.ts), else directly. TLS to the API server (its CA, the client
 * certificate, insecure-skip-tls-verify) is the same on every route: through a proxy it
 * runs inside the CONNECT tunnel, so the proxy sees host:port and nothing else.
 */
export class ApiServerRoute {
  readonly dispatcher: Dispatcher;
  /** Set once undici opened a connection to a proxy for this server: the route its decision took. */
  private used?: ProxyInUse;

  constructor(access: ClusterAccess, logger: Logger) {
    const tls = { ca: access.ca, cert: access.cert, key: access.key, rejectUnauthorized: !access.insecure };
    // A proxy's password could reach a message (an error quoting a URL): registered whichever route is taken.
    for (const written of access.proxyUrl ? [access.proxyUrl] : proxyVariableValues()) registerProxySecrets(written, logger);
    // proxyTunnel: an http:// API server goes through a CONNECT tunnel too, so its bearer token is never handed to the proxy to read.
    const common = { requestTls: tls, proxyTunnel: true, clientFactory: (proxy: URL, options: object) => this.proxyPool(proxy, options, access) };
    this.dispatcher = access.proxyUrl
      ? new ProxyAgent({ ...common, uri: access.proxyUrl })
      : environmentProxyAgent({ ...common, connect: tls });
  }

  /** The proxy this server is reached through, once a call went that way; undefined for a direct route. */
  get proxy(): ProxyInUse | undefined {
    return this.used;
  }

  /**
   * The pool ProxyAgent opens connections to the proxy with (its clientFactory): undici's own
   * Pool and connector, with each connection attempt recorded (so a message can say which
   * proxy undici chose) and a failure marked as the proxy's.
   */
  private proxyPool(proxy: URL, options: object, access: ClusterAccess): Dispatcher {
    const { connect } = options as { connect: buildConnector.connector };
    const route = {
      proxy: printableUrl(proxy.href).replace(/\/$/, ''),
      from: access.proxyUrl ? `proxy-url of ${access.source}` : (proxyVariableOf(proxy) ?? 'the environment'),
    };
    return new Pool(proxy, {
      connect: (opts, callback) => {
        this.used = route;
        connect(opts, (error, socket) => (error ? callback(new ProxyUnreachable(route, error), null) : callback(null, socket)));
      },
    });
  }

  close(): void {
    this.dispatcher.destroy().catch(() => undefined);
  }
}

/** A proxy's answer other than 200 to the CONNECT, as undici reports it: its status, else undefined. */
export function tunnelRefusal(error: Error): number | undefined {
  if (!(error instanceof errors.RequestAbortedError)) return undefined;
  const status = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/.exec(error.message)?.[1];
  return status ? Number(status) : undefined;
}

function registerProxySecrets(written: string, logger: Logger): void {
  let split;
  try {
    split = splitCredentials(written);
  } catch {
    return; // not a URL: undici refuses it with its own error, which names no credentials
  }
  for (const secret of split.secrets) logger.addSecret(secret);
  // What goes to the proxy: Proxy-Authorization: Basic base64(user:password).
  if (split.credentials) logger.addSecret(Buffer.from(`${split.credentials.username}:${split.credentials.password}`).toString('base64'));
}
