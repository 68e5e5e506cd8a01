import ky, { HTTPError, TimeoutError, type KyInstance } from 'ky';
import { z } from 'zod';
import { OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { AirflowConnection } from './connection.js';

export interface AirflowClientOptions {
  fetch?: typeof globalThis.fetch;
  logger: Logger;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /** Retries on 429/502/503/504 and refused connections. */
  retries?: number;
}

export interface AirflowRequest<T> {
  /** What the call does, for the error message: "read the DAG 'x'". */
  action: string;
  /** Validates the answer before anything reads it. */
  schema: z.ZodType<T>;
  json?: unknown;
  searchParams?: URLSearchParams;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Statuses that are an answer, not an error (e.g. 404 on a lookup); their body is not validated. */
  accept?: number[];
}

export type AirflowAnswer<T> = { status: 200 | 201 | 204; body: T } | { status: number; body: unknown };

const TokenAnswer = z.object({ access_token: z.string().min(1) });

/**
 * HTTP plumbing for Airflow 3's REST API (/api/v2): a JWT from `POST /auth/token`,
 * logged in again once when the server says the token expired, timeouts and
 * retries, answers validated with zod, and every failure turned into one line that
 * names the request and the status. Knows no Airflow resources; AirflowApi does.
 */
export class AirflowClient {
  private readonly http: KyInstance;
  private token?: string;

  constructor(
    readonly connection: AirflowConnection,
    private readonly options: AirflowClientOptions,
  ) {
    const logger = options.logger;
    if (connection.password) logger.addSecret(connection.password);
    const started = new WeakMap<Request, number>();
    this.http = ky.create({
      prefixUrl: connection.baseUrl,
      fetch: options.fetch,
      timeout: options.timeoutMs ?? 30_000,
      retry: {
        limit: options.retries ?? 3,
        methods: ['get', 'put', 'patch', 'delete', 'post'],
        // 500 too: on SQLite, Airflow answers 500 when a write waited out the database lock.
        statusCodes: [429, 500, 502, 503, 504],
        afterStatusCodes: [429, 503],
        backoffLimit: 5_000,
        shouldRetry: ({ error, retryCount }) => {
          if (!(error instanceof HTTPError)) return retryCount <= 2;
          // A POST that failed with 500 may have happened: only a trigger with its own run
          // id is safe to repeat (a repeat answers 409, which the caller resolves).
          if (error.response.status === 500 && error.request.method === 'POST') return isRepeatablePost(error.request);
          return undefined;
        },
      },
      hooks: {
        beforeRequest: [(request) => void started.set(request, Date.now())],
        afterResponse: [
          (request, _options, response) => {
            const ms = Date.now() - (started.get(request) ?? Date.now());
            logger.debug(`airflow: ${request.method} ${new URL(request.url).pathname} → ${response.status} (${ms} ms)`);
          },
        ],
      },
    });
  }

  /** A request under /api/v2 with the answer validated; `path` has no leading slash. */
  async request<T>(method: string, path: string, request: AirflowRequest<T>): Promise<AirflowAnswer<T>> {
    return this.send(method, `api/v2/${path}`, request, false);
  }

  private async send<T>(method: string, path: string, request: AirflowRequest<T>, relogged: boolean): Promise<AirflowAnswer<T>> {
    const label = `${method} /${path.split('?')[0]}`;
    const headers: Record<string, string> = { ...request.headers };
    const token = await this.bearer(request.action);
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.http(path, {
        method,
        json: request.json,
        headers,
        searchParams: request.searchParams,
        throwHttpErrors: (status) => !(request.accept ?? []).includes(status),
      });
    } catch (error) {
      if (error instanceof HTTPError && error.response.status === 401 && this.connection.username && !relogged) {
        // No refresh token in Airflow 3: a 401 (Token Expired) means log in again, once.
        this.token = undefined;
        this.options.logger.debug(`airflow: ${label} → 401 (${await readDetail(error.response)}); logging in again`);
        return this.send(method, path, request, true);
      }
      throw await this.describe(error, request.action, label);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      throw new OrchestratorError(`Failed to ${request.action}: ${label} answered ${response.status} with a body that is not JSON: ${oneLine(text)}`);
    }
    if ((request.accept ?? []).includes(response.status)) return { status: response.status, body };
    const parsed = request.schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new OrchestratorError(
        `Failed to ${request.action}: ${label} answered ${response.status} with an unexpected body (${issue.path.join('.') || 'body'}: ${issue.message}); is ${this.connection.baseUrl} an Airflow 3 API server?`,
      );
    }
    return { status: response.status as 200, body: parsed.data };
  }

  /** The JWT, fetched once per client (and again after a 401); none without credentials. */
  private async bearer(action: string): Promise<string | undefined> {
    const { username, password } = this.connection;
    if (!username || !password) return undefined;
    if (this.token) return this.token;
    const label = 'POST /auth/token';
    let response: Response;
    try {
      response = await this.http('auth/token', { method: 'POST', json: { username, password } });
    } catch (error) {
      throw await this.describe(error, `${action} (log in as ${username})`, label);
    }
    const parsed = TokenAnswer.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) {
      throw new OrchestratorError(`Failed to log in to Airflow at ${this.connection.baseUrl}: ${label} answered ${response.status} without an access_token`);
    }
    this.token = parsed.data.access_token;
    this.options.logger.addSecret(this.token);
    return this.token;
  }

  private async describe(error: unknown, action: string, label: string): Promise<OrchestratorError> {
    const where = this.connection.baseUrl;
    if (error instanceof HTTPError) {
      const status = error.response.status;
      const detail = await readDetail(error.response);
      const said = detail ? `: ${detail}` : '';
      if (status === 401 || status === 403) {
        return new OrchestratorError(
          `Failed to ${action}: ${label} answered ${status}${said}; check AIRFLOW_USERNAME and AIRFLOW_PASSWORD (the user needs the op or admin role)`,
        );
      }
      return new OrchestratorError(`Failed to ${action}: ${label} answered ${status}${said}`);
    }
    if (error instanceof TimeoutError) return new OrchestratorError(`Failed to ${action}: ${label} at ${where} did not answer in time`);
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return new OrchestratorError(`Failed to ${action}: cannot reach the Airflow API at ${where} (${reason})`);
  }
}

/** A DAG-run trigger names its run (deterministic ids): posting it twice cannot start two runs. */
function isRepeatablePost(request: Request): boolean {
  return /\/dagRuns$/.test(new URL(request.url).pathname) && request.headers.get('x-lolpop-run-id') !== null;
}

/** Airflow errors come as {detail: string}, {detail: {message}} or a validation list; keep one line. */
export async function readDetail(response: Response): Promise<string> {
  let text = '';
  try {
    text = await response.clone().text();
  } catch {
    return '';
  }
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    const detail = body.detail;
    if (typeof detail === 'string') return oneLine(detail);
    if (Array.isArray(detail)) {
      return oneLine(detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join('.')}: ${d.msg ?? ''}`).join('; '));
    }
    if (detail && typeof detail === 'object') {
      const d = detail as { reason?: unknown; message?: unknown };
      return oneLine([d.reason, d.message].filter((x) => typeof x === 'string').join(': '));
    }
  } catch {
    // not JSON
  }
  return oneLine(text);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
