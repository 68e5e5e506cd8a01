import { z } from 'zod';
import { readDetail } from '../../http/detail.js';
import { htmlHint } from '../../http/html-hint.js';
import { BoundedJsonClient } from '../../http/json-client.js';
import { resolveLimits } from '../../http/limits.js';
import { repeatUnlessPost, type RepeatCandidate } from '../../http/repeat-after-500.js';
import type { Logger } from '../../logger.js';
import type { AirflowApiVersion, AirflowConnection } from './connection.js';

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
  /** What the workflows of one step share (OrchestratorContext.shared): the API a server has is asked once. */
  shared?: Map<string, unknown>;
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
  /** An epoch time in ms the call ends by (see JsonRequest.deadline): stop's cancel_timeout. */
  deadline?: number;
}

export type AirflowAnswer<T> = { status: 200 | 201 | 204; body: T } | { status: number; body: unknown };

const TokenAnswer = z.looseObject({ access_token: z.string().min(1) });

/**
 * Airflow's REST API over the shared bounded JSON client (src/http). Airflow 3
 * (/api/v2): a JWT from `POST /auth/token`, logged in again once when the server answers
 * 401 (Airflow has no refresh token). Airflow 2.x (/api/v1): basic auth. Which one is
 * the URL's (…/api/v1) or asked once: Airflow 2 answers 404 to `GET /api/v2/version`.
 * Its rule for a POST answered 500 (on SQLite, a write that waited out the database
 * lock): repeated only for a DAG-run trigger that names its own run. Knows no Airflow
 * resources; AirflowApi does.
 */
export class AirflowClient {
  private readonly http: BoundedJsonClient;
  private token?: string;
  /** A login under way, shared by the requests that need it. */
  private login?: Promise<string>;
  private version?: Promise<AirflowApiVersion>;

  constructor(
    readonly connection: AirflowConnection,
    private readonly options: AirflowClientOptions,
  ) {
    if (connection.password) options.logger.addSecret(connection.password);
    for (const secret of connection.secrets ?? []) options.logger.addSecret(secret);
    for (const warning of connection.warnings ?? []) options.logger.warning(warning);
    this.http = new BoundedJsonClient(
      {
        name: 'Airflow',
        logTag: 'airflow',
        baseUrl: connection.baseUrl,
        shownUrl: connection.baseUrl,
        urlSetting: 'AIRFLOW_API_URL',
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

  /** The server's API: the URL's, else asked once (`GET /api/v2/version`, which Airflow 3 answers without credentials). */
  apiVersion(): Promise<AirflowApiVersion> {
    if (this.connection.apiVersion) return Promise.resolve(this.connection.apiVersion);
    const key = `airflow-api-version ${this.connection.baseUrl}`;
    const known = this.options.shared?.get(key) as AirflowApiVersion | undefined;
    if (known) return Promise.resolve(known);
    this.version ??= this.http
      .request('GET', 'api/v2/version', { action: 'ask Airflow which API it has', schema: z.unknown(), accept: [401, 403, 404] })
      .then((res): AirflowApiVersion => {
        const version = res.status === 404 ? 'v1' : 'v2';
        this.options.logger.debug(`airflow: ${version === 'v1' ? 'Airflow 2.x, /api/v1 with basic auth' : 'Airflow 3, /api/v2'}`);
        this.options.shared?.set(key, version);
        return version;
      });
    // A failed probe is not remembered: the next request asks again.
    this.version.catch(() => (this.version = undefined));
    return this.version;
  }

  /** A request under the server's API with the answer validated; `path` has no leading slash. */
  async request<T>(method: string, path: string, request: AirflowRequest<T>): Promise<AirflowAnswer<T>> {
    const version = await this.apiVersion();
    const relative = `api/${version}/${path}`;
    for (let relogged = false; ; relogged = true) {
      const token = version === 'v2' ? await this.bearer(request.action) : undefined;
      const headers: Record<string, string> = { ...request.headers };
      if (token) headers.authorization = `Bearer ${token}`;
      const basic = version === 'v1' ? this.basic() : undefined;
      if (basic) headers.authorization = basic;
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

  /** Airflow 2's basic auth header; none without credentials. */
  private basic(): string | undefined {
    const { username, password } = this.connection;
    if (!username || !password) return undefined;
    const header = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    this.options.logger.addSecret(header.slice('Basic '.length));
    return header;
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
