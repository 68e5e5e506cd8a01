import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { authorizationHeader, type PrefectConnection } from './connection.js';
import { CsrfTokenSchema, describeIssues, VersionSchema } from './schemas.js';
import { withoutCredentials } from './urls.js';

/**
 * How long anything may take, by default. A server that accepts and never answers
 * fails in at most `budgetMs` (two tries of 20 s and a backoff: about 41 s); a body
 * that stops flowing fails the same way (20 s without a byte, per try); a server
 * that asks (Retry-After) to wait more than 30 s fails at once, saying so; nothing
 * one call does, retries and waits included, takes more than 45 s.
 *
 * PREFECT_API_REQUEST_TIMEOUT (connection.requestTimeoutMs) replaces the two
 * per-try timeouts, and the budget becomes twice it plus 5 s; options override all.
 */
export const CLIENT_DEFAULTS = {
  /** One try: from sending the request to the response headers. */
  headersTimeoutMs: 20_000,
  /** One try: the longest gap between two chunks of the body. */
  bodyTimeoutMs: 20_000,
  /** One call, every try, backoff and Retry-After wait included. */
  budgetMs: 45_000,
  /** The longest Retry-After honoured; a longer one fails the call at once. */
  maxRetryAfterMs: 30_000,
  /** Retries on 408/429/502/503/504 (Prefect's own client does 5). */
  retries: 5,
  /** Retries on a connection refused, dropped or reset, or a try that timed out. */
  transportRetries: 2,
  /** Upper bound of one backoff. */
  backoffLimitMs: 10_000,
};

export interface PrefectClientOptions {
  fetch?: typeof globalThis.fetch;
  logger: Logger;
  /** Retries on 408/429/502/503/504. */
  retries?: number;
  /** Retries on transport failures (refused, reset, timed out). */
  transportRetries?: number;
  /** Upper bound of one backoff, ms. */
  backoffLimitMs?: number;
  /** The budget of one call including retries and waits, ms (alias of budgetMs). */
  timeoutMs?: number;
  budgetMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxRetryAfterMs?: number;
}

export interface RequestOptions<S extends z.ZodType = z.ZodType> {
  json?: unknown;
  /** What the call does, for the error message: "create the deployment 'x'". */
  action: string;
  /** The shape of a 2xx answer; anything else is an error naming the request. */
  schema: S;
  /** Statuses that are an answer, not an error (e.g. 404 on a lookup); their body is not parsed. */
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

/** One complete answer: status, headers and the whole body. */
interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** How many tries it took, and how long in all (set by send). */
  tries?: number;
  ms?: number;
}

/** A try that waited too long: for the headers, or for the next chunk of the body. */
class Stalled extends Error {
  constructor(
    readonly phase: 'headers' | 'body',
    readonly ms: number,
  ) {
    super(`stalled (${phase})`);
  }
}

const RETRY_STATUSES = [408, 429, 502, 503, 504];
/** Codes of a server that is not there (as opposed to one that dropped a connection). */
const UNREACHABLE = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'];

/**
 * HTTP plumbing for Prefect's REST API: auth, CSRF, bounded tries (headers, body,
 * the whole call), retries with backoff that honour Retry-After up to a cap,
 * every answer parsed against the shape we use, timing logs without secrets, and
 * errors turned into one line a user can act on. Knows no Prefect resources;
 * `PrefectApi` does.
 */
export class PrefectClient {
  private csrf?: CsrfState;
  private version?: string;
  private readonly base: string;
  /** The API URL as it may be printed. */
  readonly shownUrl: string;
  private readonly auth?: string;
  private readonly fetch: typeof globalThis.fetch;
  private readonly limits: typeof CLIENT_DEFAULTS;

  constructor(
    readonly connection: PrefectConnection,
    private readonly options: PrefectClientOptions,
  ) {
    // fetch refuses a URL with credentials; they go in the Authorization header instead.
    this.base = withoutCredentials(connection.apiUrl).replace(/\/+$/, '');
    this.shownUrl = this.base;
    this.auth = authorizationHeader(connection);
    this.fetch = options.fetch ?? globalThis.fetch;
    const perTry = connection.requestTimeoutMs;
    this.limits = {
      headersTimeoutMs: options.headersTimeoutMs ?? perTry ?? CLIENT_DEFAULTS.headersTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs ?? perTry ?? CLIENT_DEFAULTS.bodyTimeoutMs,
      budgetMs: options.budgetMs ?? options.timeoutMs ?? (perTry ? 2 * perTry + 5_000 : CLIENT_DEFAULTS.budgetMs),
      maxRetryAfterMs: options.maxRetryAfterMs ?? CLIENT_DEFAULTS.maxRetryAfterMs,
      retries: options.retries ?? CLIENT_DEFAULTS.retries,
      transportRetries: options.transportRetries ?? CLIENT_DEFAULTS.transportRetries,
      backoffLimitMs: options.backoffLimitMs ?? CLIENT_DEFAULTS.backoffLimitMs,
    };
  }

  /** The server's Prefect version (`GET /admin/version`), fetched once. */
  async serverVersion(): Promise<string> {
    if (!this.version) {
      const res = await this.request('GET', 'admin/version', { action: 'read the server version', schema: VersionSchema });
      this.version = res.body;
    }
    return this.version;
  }

  async request<S extends z.ZodType>(method: string, path: string, options: RequestOptions<S>, csrfRefreshed = false): Promise<PrefectResponse<z.output<S>>> {
    const write = method !== 'GET' && method !== 'HEAD';
    const headers: Record<string, string> = {};
    if (this.auth) headers.authorization = this.auth;
    if (write) Object.assign(headers, await this.csrfHeaders());
    const relative = path.replace(/^\//, '');
    const label = `${method} /${relative.split('?')[0]}`;
    const answer = await this.send(method, relative, label, headers, options);
    const { status } = answer;
    if ((options.accept ?? []).includes(status)) {
      return { status, body: parseLoosely(answer.text) as z.output<S> };
    }
    if (status >= 200 && status < 300) {
      return { status, body: this.parse(answer, options, label) };
    }
    const detail = readDetail(answer.text);
    if (status === 403 && write && this.csrf?.enabled && /csrf/i.test(detail)) {
      if (csrfRefreshed) {
        throw new OrchestratorError(
          `Failed to ${options.action}: the Prefect API at ${this.shownUrl} rejected a fresh CSRF token (${detail}); ` +
            'is a proxy dropping the Prefect-Csrf-Token / Prefect-Csrf-Client headers?',
        );
      }
      this.csrf = undefined; // expired: fetch a new token once and retry
      return this.request(method, path, options, true);
    }
    const tries = (answer.tries ?? 1) > 1 ? `, ${answer.tries} tries in ${seconds(answer.ms ?? 0)}` : '';
    throw this.statusError(options.action, `${label}${tries}`, status, detail);
  }

  /** Parses a 2xx body against the schema: JSON first, then the shape. */
  private parse<S extends z.ZodType>(answer: Answer, options: RequestOptions<S>, label: string): z.output<S> {
    const fail = (what: string): OrchestratorError =>
      new OrchestratorError(`Failed to ${options.action}: Prefect answered ${answer.status} to ${label} with ${what}`);
    const text = answer.text;
    let value: unknown = undefined;
    if (text.trim() !== '') {
      const type = answer.headers.get('content-type') ?? '';
      if (/html/i.test(type) || /^\s*</.test(text)) {
        throw fail(`HTML, not JSON (${snippet(text)}); is PREFECT_API_URL the API (ending in /api), not the UI?`);
      }
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw fail(`a body that is not valid JSON (${(error as Error).message}): ${snippet(text)}`);
      }
    }
    const parsed = options.schema.safeParse(value);
    if (!parsed.success) {
      throw fail(`an unexpected body (${describeIssues(parsed.error)}): ${text.trim() === '' ? 'empty' : snippet(text)}`);
    }
    return parsed.data;
  }

  /**
   * Tries until an answer that is not to be retried, within the budget. Throws one
   * line for a server that cannot be reached, dropped the connection, hung, or
   * kept answering a retriable status.
   */
  private async send(method: string, relative: string, label: string, headers: Record<string, string>, options: RequestOptions): Promise<Answer> {
    const { limits, logger } = { limits: this.limits, logger: this.options.logger };
    const url = `${this.base}/${relative}`;
    const pathname = new URL(url).pathname;
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = Date.now();
    const deadline = started + limits.budgetMs;
    let statusRetries = 0;
    let transportRetries = 0;
    for (let attempt = 1; ; attempt += 1) {
      const tryStarted = Date.now();
      const remaining = deadline - tryStarted;
      let answer: Answer;
      try {
        answer = await this.attempt(url, { method, headers, body }, Math.min(limits.headersTimeoutMs, remaining), limits.bodyTimeoutMs, deadline);
      } catch (error) {
        const ms = Date.now() - tryStarted;
        logger.debug(`prefect: ${method} ${pathname} → ${error instanceof Stalled ? `no ${error.phase === 'body' ? 'body' : 'answer'}` : transportCode(error)} (${ms} ms)`);
        const wait = this.backoff(attempt);
        const left = deadline - Date.now() - wait;
        // Another try only when it can wait as long as this one did (half a timeout at least).
        const room = error instanceof Stalled ? Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 2 : 0;
        if (transportRetries < limits.transportRetries && left > room) {
          transportRetries += 1;
          logger.debug(`prefect: retry ${attempt} of ${method} ${pathname} in ${Math.round(wait)} ms`);
          await sleep(wait);
          continue;
        }
        throw this.transportError(error, options.action, label, attempt, Date.now() - started);
      }
      logger.debug(`prefect: ${method} ${pathname} → ${answer.status} (${Date.now() - tryStarted} ms)`);
      Object.assign(answer, { tries: attempt, ms: Date.now() - started });
      if (!RETRY_STATUSES.includes(answer.status) || (options.accept ?? []).includes(answer.status)) return answer;
      const retryAfter = parseRetryAfter(answer.headers.get('retry-after'));
      if (retryAfter !== undefined && retryAfter > limits.maxRetryAfterMs) {
        throw new OrchestratorError(
          `Failed to ${options.action}: Prefect answered ${answer.status} to ${label} and asked to wait ${Math.round(retryAfter / 1000)} s (Retry-After), ` +
            `more than the ${Math.round(limits.maxRetryAfterMs / 1000)} s this tool waits; try again later`,
        );
      }
      if (statusRetries >= limits.retries) return answer;
      const wait = retryAfter ?? this.backoff(attempt);
      // Waiting must leave a try some time to answer (half a headers timeout, up to 1 s).
      if (Date.now() + wait + Math.min(1000, limits.headersTimeoutMs / 2) > deadline) {
        const detail = readDetail(answer.text);
        throw new OrchestratorError(
          `Failed to ${options.action}: Prefect answered ${answer.status}${detail ? `: ${detail}` : ''} (${label}); ` +
            `gave up after ${attempt} tries in ${seconds(Date.now() - started)}` +
            (retryAfter !== undefined ? `, it asked to wait ${seconds(retryAfter)} more` : ''),
        );
      }
      statusRetries += 1;
      logger.debug(`prefect: retry ${attempt} of ${method} ${pathname} in ${Math.round(wait)} ms (${answer.status})`);
      await sleep(wait);
    }
  }

  /**
   * One try, bounded: the headers within `headersMs`, then no gap of more than
   * `bodyMs` between two chunks of the body, and nothing past `deadline`. Aborting
   * also ends a fetch that ignores the signal (the race), so nothing hangs.
   */
  private async attempt(url: string, init: RequestInit, headersMs: number, bodyMs: number, deadline: number): Promise<Answer> {
    const controller = new AbortController();
    let stalled: Stalled | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (phase: 'headers' | 'body', ms: number): void => {
      clearTimeout(timer);
      const wait = Math.max(0, Math.min(ms, deadline - Date.now()));
      timer = setTimeout(() => {
        stalled = new Stalled(phase, wait);
        controller.abort(stalled);
      }, wait);
    };
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(stalled ?? new Error('aborted')), { once: true });
    });
    aborted.catch(() => undefined);
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      arm('headers', headersMs);
      const response = await Promise.race([this.fetch(url, { ...init, signal: controller.signal }), aborted]);
      arm('body', bodyMs);
      const chunks: Uint8Array[] = [];
      if (response.body) {
        reader = response.body.getReader();
        for (;;) {
          const { done, value } = await Promise.race([reader.read(), aborted]);
          if (done) break;
          chunks.push(value);
          arm('body', bodyMs);
        }
      }
      return { status: response.status, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') };
    } catch (error) {
      if (stalled) throw stalled;
      throw error;
    } finally {
      clearTimeout(timer);
      if (!controller.signal.aborted) controller.abort();
      reader?.cancel().catch(() => undefined);
    }
  }

  /** Exponential backoff with jitter, as Prefect's client does. */
  private backoff(attempt: number): number {
    return Math.min(this.limits.backoffLimitMs, 500 * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
  }

  /** Prefect's CSRF protection is off by default; find out once, then send the token on writes. */
  private async csrfHeaders(): Promise<Record<string, string>> {
    if (!this.csrf) {
      const client = randomUUID();
      const res = await this.request('GET', `csrf-token?client=${client}`, {
        action: 'get a CSRF token',
        schema: CsrfTokenSchema,
        accept: [404, 422],
      });
      this.csrf = res.status === 200 ? { enabled: true, token: res.body.token, client } : { enabled: false, client };
    }
    return this.csrf.enabled && this.csrf.token ? { 'Prefect-Csrf-Token': this.csrf.token, 'Prefect-Csrf-Client': this.csrf.client } : {};
  }

  private statusError(action: string, label: string, status: number, detail: string): OrchestratorError {
    if (status === 401 || status === 403) {
      return new OrchestratorError(
        `Failed to ${action}: the Prefect API at ${this.shownUrl} refused the credentials (${status}${detail ? `: ${detail}` : ''}); ` +
          'check PREFECT_API_KEY (Cloud) or PREFECT_API_AUTH_STRING (self-hosted)',
      );
    }
    return new OrchestratorError(`Failed to ${action}: Prefect answered ${status}${detail ? `: ${detail}` : ''} (${label})`);
  }

  private transportError(error: unknown, action: string, label: string, tries: number, ms: number): OrchestratorError {
    const where = this.shownUrl;
    const after = tries > 1 ? ` (${tries} tries in ${seconds(ms)})` : '';
    if (error instanceof Stalled) {
      return new OrchestratorError(
        error.phase === 'headers'
          ? `Failed to ${action}: the Prefect API at ${where} hung: ${label} did not answer in ${seconds(error.ms)}${after}`
          : `Failed to ${action}: the Prefect API at ${where} hung: the answer to ${label} stopped for ${seconds(error.ms)} before its end${after}`,
      );
    }
    const code = transportCode(error);
    if (UNREACHABLE.includes(code)) {
      return new OrchestratorError(`Failed to ${action}: cannot reach the Prefect API at ${where} (${code})`);
    }
    return new OrchestratorError(`Failed to ${action}: the Prefect API at ${where} dropped the connection during ${label} (${code})${after}`);
  }
}

/** ECONNRESET, UND_ERR_SOCKET, …: the most specific code or message of a fetch failure, without URLs. */
function transportCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const raw = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return withoutCredentialsIn(raw);
}

/** Any URL with credentials in a text, without them. */
function withoutCredentialsIn(text: string): string {
  return text.replace(/\b(https?:\/\/)[^/\s@]+@/g, '$1');
}

/** Retry-After in ms: seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 1000)} s`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The start of a body, on one line, for a message. */
function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}

function parseLoosely(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Prefect errors come as {detail}, {exception_message} or a validation list; keep one line. */
function readDetail(text: string): string {
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
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
