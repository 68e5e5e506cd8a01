import { randomUUID } from 'node:crypto';
import ky, { HTTPError, TimeoutError, type KyInstance } from 'ky';
import { OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { authorizationHeader, type PrefectConnection } from './connection.js';

export interface PrefectClientOptions {
  fetch?: typeof globalThis.fetch;
  logger: Logger;
  /** Retries on 429/502/503 (Prefect's own client does 5). */
  retries?: number;
  /** Upper bound of one backoff, ms. */
  backoffLimitMs?: number;
  /** Per-request timeout including retries, ms. */
  timeoutMs?: number;
}

export interface RequestOptions {
  json?: unknown;
  /** What the call does, for the error message: "create the deployment 'x'". */
  action: string;
  /** Statuses that are an answer, not an error (e.g. 404 on a lookup). */
  accept?: number[];
}

export interface PrefectResponse<T> {
  status: number;
  body: T;
}

interface CsrfState {
  enabled: boolean;
  token?: string;
  client: string;
}

/**
 * HTTP plumbing for Prefect's REST API: auth, CSRF, retries with backoff that
 * honour Retry-After, timing logs without secrets, and errors turned into one
 * line a user can act on. Knows no Prefect resources; `PrefectApi` does.
 */
export class PrefectClient {
  private readonly http: KyInstance;
  private csrf?: CsrfState;
  private version?: string;

  constructor(
    readonly connection: PrefectConnection,
    private readonly options: PrefectClientOptions,
  ) {
    const auth = authorizationHeader(connection);
    const logger = options.logger;
    const started = new WeakMap<Request, number>();
    this.http = ky.create({
      prefixUrl: connection.apiUrl,
      fetch: options.fetch,
      timeout: options.timeoutMs ?? 60_000,
      headers: auth ? { authorization: auth } : {},
      retry: {
        limit: options.retries ?? 5,
        methods: ['get', 'post', 'put', 'patch', 'delete', 'head'],
        statusCodes: [429, 502, 503],
        afterStatusCodes: [429, 502, 503],
        maxRetryAfter: 120_000,
        backoffLimit: options.backoffLimitMs ?? 10_000,
        // A refused connection is retried twice (a server restarting), not five
        // times: an unreachable URL should fail in seconds with one clear line.
        shouldRetry: ({ error, retryCount }) => (error instanceof HTTPError ? undefined : retryCount <= 2),
        // Exponential backoff with jitter, as Prefect's client does.
        delay: (attempt) => 500 * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5),
      },
      hooks: {
        beforeRequest: [(request) => void started.set(request, Date.now())],
        afterResponse: [
          (request, _options, response) => {
            const ms = Date.now() - (started.get(request) ?? Date.now());
            logger.debug(`prefect: ${request.method} ${new URL(request.url).pathname} → ${response.status} (${ms} ms)`);
          },
        ],
        beforeRetry: [({ request, retryCount }) => logger.debug(`prefect: retry ${retryCount} of ${request.method} ${new URL(request.url).pathname}`)],
      },
    });
  }

  /** The server's Prefect version (`GET /admin/version`), fetched once. */
  async serverVersion(): Promise<string> {
    if (!this.version) {
      const res = await this.request<string>('GET', 'admin/version', { action: 'read the server version' });
      this.version = res.body;
    }
    return this.version;
  }


  async request<T>(method: string, path: string, options: RequestOptions, csrfRefreshed = false): Promise<PrefectResponse<T>> {
    const write = method !== 'GET' && method !== 'HEAD';
    const headers: Record<string, string> = {};
    if (write) Object.assign(headers, await this.csrfHeaders());
    try {
      const response = await this.http(path.replace(/^\//, ''), {
        method,
        json: options.json,
        headers,
        throwHttpErrors: (status) => !(options.accept ?? []).includes(status),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    } catch (error) {
      if (error instanceof HTTPError && error.response.status === 403 && write && this.csrf?.enabled) {
        const detail = await readDetail(error.response);
        if (/csrf/i.test(detail)) {
          if (csrfRefreshed) {
            throw new OrchestratorError(
              `Failed to ${options.action}: the Prefect API at ${this.connection.apiUrl} rejected a fresh CSRF token (${detail}); ` +
                'is a proxy dropping the Prefect-Csrf-Token / Prefect-Csrf-Client headers?',
            );
          }
          this.csrf = undefined; // expired: fetch a new token once and retry
          return this.request<T>(method, path, options, true);
        }
      }
      throw await this.describe(error, options.action);
    }
  }

  /** Prefect's CSRF protection is off by default; find out once, then send the token on writes. */
  private async csrfHeaders(): Promise<Record<string, string>> {
    if (!this.csrf) {
      const client = randomUUID();
      const res = await this.request<{ token?: string }>('GET', `csrf-token?client=${client}`, {
        action: 'get a CSRF token',
        accept: [404, 422],
      });
      this.csrf = res.status === 200 && res.body?.token ? { enabled: true, token: res.body.token, client } : { enabled: false, client };
    }
    return this.csrf.enabled && this.csrf.token ? { 'Prefect-Csrf-Token': this.csrf.token, 'Prefect-Csrf-Client': this.csrf.client } : {};
  }

  private async describe(error: unknown, action: string): Promise<OrchestratorError> {
    const where = this.connection.apiUrl;
    if (error instanceof HTTPError) {
      const status = error.response.status;
      const detail = await readDetail(error.response);
      if (status === 401 || status === 403) {
        return new OrchestratorError(
          `Failed to ${action}: the Prefect API at ${where} refused the credentials (${status}${detail ? `: ${detail}` : ''}); ` +
            'check PREFECT_API_KEY (Cloud) or PREFECT_API_AUTH_STRING (self-hosted)',
        );
      }
      return new OrchestratorError(`Failed to ${action}: Prefect answered ${status}${detail ? `: ${detail}` : ''}`);
    }
    if (error instanceof TimeoutError) {
      return new OrchestratorError(`Failed to ${action}: the Prefect API at ${where} did not answer in time`);
    }
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return new OrchestratorError(`Failed to ${action}: cannot reach the Prefect API at ${where} (${reason})`);
  }
}

/** Prefect errors come as {detail}, {exception_message} or a validation list; keep one line. */
async function readDetail(response: Response): Promise<string> {
  let text = '';
  try {
    text = await response.clone().text();
  } catch {
    return '';
  }
  try {
    const body = JSON.parse(text) as { detail?: unknown; exception_message?: unknown; exception_detail?: unknown };
    if (typeof body.detail === 'string') return body.detail;
    if (typeof body.exception_message === 'string') {
      const extra = Array.isArray(body.exception_detail)
        ? body.exception_detail
            .map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join('.')}: ${d.msg ?? ''}`)
            .join('; ')
        : '';
      return extra ? `${body.exception_message} (${extra})` : body.exception_message;
    }
    if (Array.isArray(body.detail)) return JSON.stringify(body.detail).slice(0, 300);
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').slice(0, 300);
}
