import { z } from 'zod';
import { readDetail } from '../../http/detail.js';
import { htmlHint } from '../../http/html-hint.js';
import { BoundedJsonClient } from '../../http/json-client.js';
import { resolveLimits } from '../../http/limits.js';
import { repeatUnlessPost, type RepeatCandidate } from '../../http/repeat-after-500.js';
import type { Logger } from '../../logger.js';
import type { AirflowConnection } from './connection.js';

export interface AirflowClientOptions {
  fetch?: typeof globalThis.fetch;
  logger: Logger;
  /**
   * The budget of one call, every try and wait included, ms (orchestrator.config.request_timeout);
   * each try gets half of it, at most 20 s. The bounds are documented in src/http/limits.ts.
   */
  timeoutMs?: number;
  /** Retries on 408/429/502/503/504, and on a 500 where a repeat is safe. */
  retries?: number;
  /** Finer bounds (tests): per try, and retries on transport failures. */
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  transportRetries?: number;
  backoffLimitMs?: number;
  maxRetryAfterMs?: number;
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

const TokenAnswer = z.looseObject({ access_token: z.string().min(1) });

/**
 * Airflow 3's REST API (/api/v2) over the shared bounded JSON client (src/http): a JWT
 * from `POST /auth/token`, logged in again once when the server answers 401 (Airflow
 * has no refresh token), and its rule for a POST answered 500 (on SQLite, a write that
 * waited out the database lock): repeated only for a DAG-run trigger that names its
 * own run. Knows no Airflow resources; AirflowApi does.
 */
export class AirflowClient {
  private readonly http: BoundedJsonClient;
  private token?: string;
  /** A login under way, shared by the requests that need it. */
  private login?: Promise<string>;

  constructor(
    readonly connection: AirflowConnection,
    private readonly options: AirflowClientOptions,
  ) {
    if (connection.password) options.logger.addSecret(connection.password);
    this.http = new BoundedJsonClient(
      {
        name: 'Airflow',
        logTag: 'airflow',
        baseUrl: connection.baseUrl,
        shownUrl: connection.baseUrl,
        htmlHint: htmlHint('AIRFLOW_API_URL', "the API server's root (e.g. http://airflow.internal:8080), not a page of another site"),
        credentialsHint: 'check AIRFLOW_USERNAME and AIRFLOW_PASSWORD (the user needs the op or admin role)',
        repeatAfter500: repeatUnlessPost(repeatablePost),
      },
      {
        fetch: options.fetch,
        logger: options.logger,
        limits: resolveLimits({
          budgetMs: options.timeoutMs,
          headersTimeoutMs: options.headersTimeoutMs,
          bodyTimeoutMs: options.bodyTimeoutMs,
          retries: options.retries,
          transportRetries: options.transportRetries,
          backoffLimitMs: options.backoffLimitMs,
          maxRetryAfterMs: options.maxRetryAfterMs,
        }),
      },
    );
  }

  /** A request under /api/v2 with the answer validated; `path` has no leading slash. */
  async request<T>(method: string, path: string, request: AirflowRequest<T>): Promise<AirflowAnswer<T>> {
    const relative = `api/v2/${path}`;
    for (let relogged = false; ; relogged = true) {
      const token = await this.bearer(request.action);
      const headers: Record<string, string> = { ...request.headers };
      if (token) headers.authorization = `Bearer ${token}`;
      const answer = await this.http.exchange(method, relative, { ...request, headers });
      if (answer.status === 401 && token && !relogged && !(request.accept ?? []).includes(401)) {
        // No refresh token in Airflow 3: a 401 (Token Expired) means log in again, once.
        if (this.token === token) this.token = undefined;
        this.options.logger.debug(`airflow: ${answer.label} → 401 (${readDetail(answer.text)}); logging in again`);
        continue;
      }
      return this.http.result(answer, request);
    }
  }

  /** The JWT, fetched once per client (and again after a 401); none without credentials. */
  private async bearer(action: string): Promise<string | undefined> {
    const { username, password } = this.connection;
    if (!username || !password) return undefined;
    if (this.token) return this.token;
    this.login ??= this.http
      .request('POST', 'auth/token', { action: `${action} (log in as ${username})`, schema: TokenAnswer, json: { username, password } })
      .then((res) => {
        this.options.logger.addSecret(res.body.access_token);
        this.token = res.body.access_token;
        return this.token;
      })
      .finally(() => {
        this.login = undefined;
      });
    return this.login;
  }
}

/**
 * A POST answered 500 may have happened. A DAG-run trigger that names its run (its
 * own dag_run_id, marked by the x-lolpop-run-id header) cannot start two runs: a
 * repeat answers 409, which the caller resolves. A login creates nothing.
 */
function repeatablePost(request: RepeatCandidate): boolean {
  if (/\/auth\/token$/.test(request.path)) return true;
  const named = Object.keys(request.headers).some((name) => name.toLowerCase() === 'x-lolpop-run-id');
  return /\/dagRuns$/.test(request.path) && named;
}
