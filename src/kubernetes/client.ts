import { request } from 'undici';
import { OrchestratorError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ApiServerRoute, ProxyUnreachable, tunnelRefusal } from './api-route.js';
import type { ClusterAccess } from './kubeconfig.js';

/** The one field manager of everything this tool applies (server-side apply). */
export const FIELD_MANAGER = 'lolpop-deploy';
/** No call to the API server waits longer than this; a hung server is an error, not a hang. */
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A Kubernetes object as the API takes it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [field: string]: unknown;
}

/**
 * Where each kind this tool applies lives in the API. A kind not listed is refused by
 * name (discovery would find it, but nothing here applies other kinds).
 */
const KINDS: Record<string, { apiVersion: string; plural: string; namespaced: boolean }> = {
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  Secret: { apiVersion: 'v1', plural: 'secrets', namespaced: true },
  ConfigMap: { apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  ServiceAccount: { apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true },
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true },
  Pod: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  Job: { apiVersion: 'batch/v1', plural: 'jobs', namespaced: true },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true },
};

/** The API path of a kind's collection in a namespace: /apis/apps/v1/namespaces/ns/deployments. */
export function collectionPath(kind: string, namespace?: string): string {
  const known = KINDS[kind];
  if (!known) throw new OrchestratorError(`Kubernetes kind ${kind} is not one this tool applies (${Object.keys(KINDS).join(', ')})`);
  const prefix = known.apiVersion.includes('/') ? `/apis/${known.apiVersion}` : `/api/${known.apiVersion}`;
  return known.namespaced ? `${prefix}/namespaces/${encodeURIComponent(namespace ?? '')}/${known.plural}` : `${prefix}/${known.plural}`;
}

export function objectPath(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const known = KINDS[object.kind];
  if (known && known.apiVersion !== object.apiVersion) {
    throw new OrchestratorError(`${object.kind} ${object.metadata.name}: apiVersion ${object.apiVersion} is not served here; use ${known.apiVersion}`);
  }
  return `${collectionPath(object.kind, object.metadata.namespace)}/${encodeURIComponent(object.metadata.name)}`;
}

/**
 * The API server gave no answer (not reachable, through its proxy or not; timed out; too
 * big an answer): unlike a refusal, which is the server's own verdict on one object, it
 * ends a dry run at once, in one line.
 */
export class KubernetesUnreachable extends OrchestratorError {
  override name = 'KubernetesUnreachable';
}

interface Answer {
  status: number;
  body: string;
}

/**
 * The Kubernetes REST API from the runner, with what the kubeconfig gives (address, CA,
 * token or client certificate, proxy-url), through the proxy kubectl would use
 * (api-route.ts): no kubectl needed. Errors carry the server's own message.
 */
export class KubernetesClient {
  private readonly route: ApiServerRoute;

  constructor(
    private readonly access: ClusterAccess,
    logger: Logger,
  ) {
    if (access.token) logger.addSecret(access.token);
    this.route = new ApiServerRoute(access, logger);
  }

  get server(): string {
    return this.access.server;
  }

  close(): void {
    this.route.close();
  }

  /** Server-side apply; `dryRun` asks the server for its verdict without persisting anything. */
  async apply(object: KubeObject, options: { dryRun?: boolean } = {}): Promise<KubeObject> {
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true' });
    if (options.dryRun) query.set('dryRun', 'All');
    const res = await this.request('PATCH', `${objectPath(object)}?${query}`, JSON.stringify(object), 'application/apply-patch+yaml');
    if (res.status >= 300) throw new OrchestratorError(`Kubernetes refused ${describe(object)}: ${statusMessage(res)}`);
    return JSON.parse(res.body) as KubeObject;
  }

  /** The object, or undefined when it does not exist. */
  async get<T = KubeObject>(path: string): Promise<T | undefined> {
    const res = await this.request('GET', path);
    if (res.status === 404) return undefined;
    if (res.status >= 300) throw new OrchestratorError(`Kubernetes GET ${path} failed: ${statusMessage(res)}`);
    return JSON.parse(res.body) as T;
  }

  /** A JSON merge patch; false when the object does not exist. */
  async mergePatch(path: string, patch: object): Promise<boolean> {
    const res = await this.request('PATCH', path, JSON.stringify(patch), 'application/merge-patch+json');
    if (res.status === 404) return false;
    if (res.status >= 300) throw new OrchestratorError(`Kubernetes PATCH ${path} failed: ${statusMessage(res)}`);
    return true;
  }

  /**
   * Deletes (dependents in the background); false when it was already gone, or when `uid`
   * is given and the object of that name is no longer that one (the server checks it).
   */
  async delete(path: string, uid?: string): Promise<boolean> {
    const body = { propagationPolicy: 'Background', ...(uid ? { preconditions: { uid } } : {}) };
    const res = await this.request('DELETE', path, JSON.stringify(body), 'application/json');
    if (res.status === 404 || (uid && res.status === 409)) return false;
    if (res.status >= 300) throw new OrchestratorError(`Kubernetes DELETE ${path} failed: ${statusMessage(res)}`);
    return true;
  }

  /** Plain text (a container's log). */
  async text(path: string): Promise<string> {
    const res = await this.request('GET', path);
    if (res.status >= 300) throw new OrchestratorError(statusMessage(res));
    return res.body;
  }

  private async request(method: string, path: string, body?: string, contentType?: string): Promise<Answer> {
    const url = new URL(this.access.server + path);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.access.token) headers.authorization = `Bearer ${this.access.token}`;
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    // One bound for the whole call: reaching the proxy, the tunnel, TLS, the headers and the body.
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const pending = request(url, { method: method as 'GET', headers, body, dispatcher: this.route.dispatcher, signal });
    // An answer that comes after the call was given up is read by no one: let its connection go.
    signal.addEventListener(
      'abort',
      () => {
        void pending.then((late) => late.body.destroy(), () => undefined);
      },
      { once: true },
    );
    try {
      const res = await untilAborted(pending, signal);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          res.body.destroy();
          throw this.failure(`answered ${method} ${url.pathname} with more than ${MAX_BODY_BYTES} bytes`);
        }
        chunks.push(chunk);
      }
      return { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') };
    } catch (error) {
      if (error instanceof OrchestratorError) throw error;
      throw this.failure(this.why(error as Error, method, url, signal));
    }
  }

  /** One line: the API server, where it was configured, and the proxy it was reached through (never its credentials). */
  private failure(detail: string): KubernetesUnreachable {
    return new KubernetesUnreachable(`the Kubernetes API at ${this.access.server} (${this.access.source}) ${detail}`);
  }

  private why(error: Error, method: string, url: URL, signal: AbortSignal): string {
    const proxy = this.route.proxy;
    const through = proxy ? ` through the proxy ${proxy.proxy} (${proxy.from})` : '';
    if (signal.aborted) return `did not answer ${method} ${url.pathname} within ${REQUEST_TIMEOUT_MS / 1000} s${through}`;
    if (error instanceof ProxyUnreachable) return `is not reachable: the proxy ${error.route.proxy} (${error.route.from}) is not reachable: ${error.message}`;
    const refused = tunnelRefusal(error);
    if (refused !== undefined) return `is not reachable${through}: the proxy answered the CONNECT to ${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)} with HTTP ${refused}${refused === 407 ? ' (Proxy Authentication Required: check the proxy URL\'s user and password)' : ''}`;
    return `is not reachable${through}: ${error.message}`;
  }
}

/**
 * `pending`, or the signal's reason once it fires. undici heeds a request's signal only once
 * the request has a connection: a proxy that takes the TCP connection and never answers the
 * CONNECT would hold the call for undici's 300 s header timeout. The abandoned attempt ends
 * when the client is closed (its dispatcher destroyed).
 */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  pending.catch(() => undefined); // an attempt given up may still fail later: not an unhandled rejection
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** What the deployers use of a client (tests give a fake). */
export type KubeApi = Pick<KubernetesClient, 'apply' | 'get' | 'mergePatch' | 'delete' | 'text'>;

/** `Deployment lolpop/web`. */
export function describe(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
}

/** The server's own message from a Status body, else the HTTP status and the body's start. */
function statusMessage(res: Answer): string {
  try {
    const status = JSON.parse(res.body) as { message?: string; reason?: string };
    if (status.message) return `${status.message} (HTTP ${res.status}${status.reason ? ` ${status.reason}` : ''})`;
  } catch {
    // not JSON: shown as text below
  }
  return `HTTP ${res.status} ${res.body.slice(0, 200).replace(/\s+/g, ' ')}`;
}
