import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { OrchestratorError } from '../../errors.js';
import { htmlHint } from '../../http/html-hint.js';
import { BoundedJsonClient, type Answer, type JsonRequest, type JsonResponse } from '../../http/json-client.js';
import { readDetail } from '../../http/detail.js';
import { resolveLimits } from '../../http/limits.js';
import type { Logger } from '../../logger.js';
import { authorizationHeader, type PrefectConnection } from './connection.js';
import { noFacts, type ServerFacts } from './server-facts.js';
import { CsrfTokenSchema, VersionSchema } from './schemas.js';

/** Bounds of one call; unset ones take the defaults documented in src/http/limits.ts. */
export interface PrefectClientOptions {
  fetch?: typeof globalThis.fetch;
  /** What the step already knows of this server (server-facts.ts); a fresh set by default. */
  facts?: ServerFacts;
  logger: Logger;
  /** Retries on 408/429/502/503/504. */
  retries?: number;
  /** Retries on transport failures (refused, reset, timed out). */
  transportRetries?: number;
  /** Upper bound of one backoff, ms. */
  backoffLimitMs?: number;
  /** The budget of one call including retries and waits, ms. */
  budgetMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxRetryAfterMs?: number;
}

export type RequestOptions<S extends z.ZodType = z.ZodType> = Omit<JsonRequest<S>, 'headers' | 'searchParams'>;
export type PrefectResponse<T> = JsonResponse<T>;

/** A CSRF token and the client id it was issued for. */
interface CsrfToken {
  token: string;
  client: string;
}

/** A token request, and its token once it answered (undefined: protection off). */
interface CsrfState {
  promise: Promise<CsrfToken | undefined>;
  settled: boolean;
  value?: CsrfToken;
}

/**
 * Prefect's REST API over the shared bounded JSON client (src/http): its auth header,
 * and CSRF tokens only when the server asks for them. Knows no Prefect resources;
 * `PrefectApi` does.
 */
export class PrefectClient {
  /** The token writes carry, once a server has asked for one (undefined: none needed so far). */
  private csrf?: CsrfState;
  /** The server's version, pools and flows, as far as this step knows them. */
  readonly facts: ServerFacts;
  private readonly http: BoundedJsonClient;
  /** The API URL as it may be printed. */
  readonly shownUrl: string;
  private readonly auth?: string;

  constructor(
    readonly connection: PrefectConnection,
    options: PrefectClientOptions,
  ) {
    // resolveConnection took any credentials out of the URL: they are the auth string.
    const base = connection.apiUrl.replace(/\/+$/, '');
    this.shownUrl = base;
    this.auth = authorizationHeader(connection);
    this.facts = options.facts ?? noFacts();
    this.http = new BoundedJsonClient(
      {
        name: 'Prefect',
        logTag: 'prefect',
        baseUrl: base,
        shownUrl: base,
        urlSetting: 'PREFECT_API_URL',
        htmlHint: htmlHint('PREFECT_API_URL', 'the API (ending in /api), not the UI'),
        credentialsHint: 'check PREFECT_API_KEY (Cloud) or PREFECT_API_AUTH_STRING (self-hosted)',
      },
      {
        fetch: options.fetch,
        logger: options.logger,
        gate: this.facts.writes,
        limits: resolveLimits({
          perTryMs: connection.requestTimeoutMs,
          budgetMs: options.budgetMs,
          headersTimeoutMs: options.headersTimeoutMs,
          bodyTimeoutMs: options.bodyTimeoutMs,
          maxRetryAfterMs: options.maxRetryAfterMs,
          retries: options.retries,
          transportRetries: options.transportRetries,
          backoffLimitMs: options.backoffLimitMs,
        }),
      },
    );
  }

  /** The server's Prefect version (`GET /admin/version`), fetched once (concurrent callers share the request). */
  async serverVersion(): Promise<string> {
    const read = (this.facts.version ??= this.request('GET', 'admin/version', { action: 'read the server version', schema: VersionSchema }).then((res) => res.body));
    try {
      return await read;
    } catch (error) {
      if (this.facts.version === read) this.facts.version = undefined; // a failure is not remembered: a later call asks again
      throw error;
    }
  }

  /**
   * A request with the auth header. Writes go without a CSRF token until the server
   * answers 403 about CSRF (protection is off by default); then a token is fetched
   * once, the write sent again with it, and every later write carries it.
   */
  async request<S extends z.ZodType>(method: string, path: string, options: RequestOptions<S>): Promise<PrefectResponse<z.output<S>>> {
    const write = method !== 'GET' && method !== 'HEAD';
    let csrf = write ? await this.csrf?.promise.catch(() => undefined) : undefined;
    let refreshed = false;
    for (;;) {
      const answer = await this.http.exchange(method, path, { ...options, headers: this.headers(csrf) });
      if (!write || !isCsrfRefusal(answer)) return this.http.result(answer, options);
      if (refreshed) {
        throw new OrchestratorError(
          `Failed to ${options.action}: the Prefect API at ${this.shownUrl} rejected a fresh CSRF token (${readDetail(answer.text)}); ` +
            'is a proxy dropping the Prefect-Csrf-Token / Prefect-Csrf-Client headers?',
        );
      }
      csrf = await this.freshCsrf(csrf);
      // A 403 about CSRF from a server that hands out no token: show the refusal as it is.
      if (!csrf) throw this.http.statusError(options.action, answer);
      refreshed = true;
    }
  }

  private headers(csrf: CsrfToken | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.auth) headers.authorization = this.auth;
    if (csrf) Object.assign(headers, { 'Prefect-Csrf-Token': csrf.token, 'Prefect-Csrf-Client': csrf.client });
    return headers;
  }

  /**
   * A new token, unless another request is already replacing `used` or has replaced
   * it (then that one): writes refused at the same time share one `GET /csrf-token`.
   * Undefined when the server says protection is off (422, or 404 before 2.17).
   */
  private freshCsrf(used: CsrfToken | undefined): Promise<CsrfToken | undefined> {
    const state = this.csrf;
    if (state && !(state.settled && state.value === used)) return state.promise;
    const client = randomUUID();
    const next: CsrfState = {
      settled: false,
      promise: this.http
        .request('GET', `csrf-token?client=${client}`, {
          action: 'get a CSRF token',
          schema: CsrfTokenSchema,
          accept: [404, 422],
          headers: this.headers(undefined),
        })
        .then(
          (res) => {
            next.settled = true;
            next.value = res.status === 200 ? { token: res.body.token, client } : undefined;
            return next.value;
          },
          (error: unknown) => {
            if (this.csrf === next) this.csrf = undefined; // not remembered: the next refusal asks again
            throw error;
          },
        ),
    };
    this.csrf = next;
    return next.promise;
  }
}

/** Prefect's CSRF middleware answers 403 "Missing CSRF token." or "Invalid CSRF token or client identifier.". */
function isCsrfRefusal(answer: Answer): boolean {
  return answer.status === 403 && /csrf/i.test(readDetail(answer.text));
}
