import type { z } from 'zod';
import { OrchestratorError } from '../errors.js';
import type { Logger } from '../logger.js';
import { fetchBounded, isUnreachable, mebibytes, Redirected, Stalled, TooLarge, transportCode, type RawAnswer } from './bounded-fetch.js';
import { credentialsRefused, refusesCredentials } from './credentials-hint.js';
import { readDetail, snippet } from './detail.js';
import { markupKind } from './html-hint.js';
import type { HttpLimits } from './limits.js';
import { neverRepeat, type RepeatAfter500 } from './repeat-after-500.js';
import { sleep } from '../duration.js';
import { backoff, parseRetryAfter, RETRY_STATUSES, seconds } from './retry.js';
import type { WriteGate } from './write-gate.js';
import { describeIssues } from './zod-issues.js';
import { defaultFetch } from './proxy.js';

/** The server a client talks to, as its messages and logs name it. */
export interface HttpService {
  /** In messages: "Prefect answered 503", "the Airflow API at …". */
  name: string;
  /** In debug logs: "prefect: GET /api/flows/ → 201 (12 ms)". */
  logTag: string;
  /** Requests go to `${baseUrl}/${path}`: no credentials, no trailing slash. */
  baseUrl: string;
  /** The URL as it may be printed. */
  shownUrl: string;
  /** The setting that holds the URL, named when the server redirects: "PREFECT_API_URL". */
  urlSetting: string;
  /** Said after an HTML answer to a 2xx (see htmlHint). */
  htmlHint: string;
  /** Said after a 401/403: which settings to check. */
  credentialsHint: string;
  /** Whether a request answered 500 may be sent again (default: never). */
  repeatAfter500?: RepeatAfter500;
}

export interface JsonRequest<S extends z.ZodType = z.ZodType> {
  /** What the call does, for the error message: "create the deployment 'x'". */
  action: string;
  /** The shape of a 2xx answer; anything else is an error naming the request. */
  schema: S;
  json?: unknown;
  /** A body that is not JSON (a multipart upload), sent as it is with its content type; instead of `json`. */
  body?: { contentType: string; data: string };
  searchParams?: URLSearchParams;
  headers?: Record<string, string>;
  /** Statuses that are an answer, not an error (e.g. 404 on a lookup); their body is not checked. */
  accept?: number[];
  /** An epoch time in ms the call ends by, retries included, when the caller's own time is shorter than the budget (stop's cancel_timeout). */
  deadline?: number;
}

export interface JsonResponse<T> {
  status: number;
  body: T;
}

/** A complete answer after retries: what it was, to what, and what it took. */
export interface Answer extends RawAnswer {
  /** "GET /admin/version": method and path relative to the base URL, for messages. */
  label: string;
  tries: number;
  ms: number;
}

export interface JsonClientOptions {
  fetch?: typeof globalThis.fetch;
  logger: Logger;
  limits: HttpLimits;
  /** The server's write gate, shared with other clients of the same server (write-gate.ts); none: writes are never held. */
  gate?: WriteGate;
}

/**
 * HTTP for a JSON REST API, bounded and explained: each try bounded (headers, body
 * gaps), each call within a budget, retries with backoff on 408/429/502/503/504 and
 * on transport failures, Retry-After honoured up to a cap, 2xx bodies checked
 * against a zod schema, debug timing logs without secrets, and every failure one
 * line a user can act on ("hung", "dropped the connection", "cannot reach",
 * "refused the credentials"). Knows nothing of auth: callers add headers.
 */
export class BoundedJsonClient {
  private readonly fetch: typeof globalThis.fetch;

  constructor(
    readonly service: HttpService,
    private readonly options: JsonClientOptions,
  ) {
    this.fetch = options.fetch ?? defaultFetch;
  }

  get limits(): HttpLimits {
    return this.options.limits;
  }

  /** `exchange` then `result`: the checked body, or one line. */
  async request<S extends z.ZodType>(method: string, path: string, request: JsonRequest<S>): Promise<JsonResponse<z.output<S>>> {
    return this.result(await this.exchange(method, path, request), request);
  }

  /**
   * Tries until an answer that is not to be retried, within the budget; any status
   * comes back. Throws one line for a server that cannot be reached, dropped the
   * connection, hung, asked to wait too long, or kept answering a retriable status.
   */
  async exchange(method: string, path: string, request: JsonRequest): Promise<Answer> {
    const { limits, logger } = this.options;
    const tag = this.service.logTag;
    const relative = path.replace(/^\//, '');
    const query = request.searchParams?.toString();
    const url = `${this.service.baseUrl}/${relative}${query ? `${relative.includes('?') ? '&' : '?'}${query}` : ''}`;
    const pathname = new URL(url).pathname;
    const label = `${method} /${relative.split('?')[0]}`;
    const headers: Record<string, string> = { ...request.headers };
    const body = request.body?.data ?? (request.json === undefined ? undefined : JSON.stringify(request.json));
    if (body !== undefined) headers['content-type'] = request.body?.contentType ?? 'application/json';
    const accept = request.accept ?? [];
    const repeat500 = (this.service.repeatAfter500 ?? neverRepeat)({ method, path: pathname, headers });
    const started = Date.now();
    const callerDeadline = request.deadline ?? Infinity;
    let deadline = Math.min(started + limits.budgetMs, callerDeadline);
    let statusRetries = 0;
    let transportRetries = 0;
    /** The longest a try waited before it was given up: the figure a "hung" message gives. */
    let longestStall = 0;
    for (let attempt = 1; ; attempt += 1) {
      // Waiting for a turn at the server's write gate is our own queue, not the server's
      // time: it does not count against the budget.
      const queued = Date.now();
      const release = this.options.gate ? await this.options.gate.acquire(method) : undefined;
      deadline = Math.min(deadline + Date.now() - queued, callerDeadline);
      const tryStarted = Date.now();
      let raw: RawAnswer;
      try {
        raw = await fetchBounded(
          this.fetch,
          url,
          { method, headers, body },
          Math.min(limits.headersTimeoutMs, deadline - tryStarted),
          limits.bodyTimeoutMs,
          deadline,
          limits.maxBodyBytes,
        ).finally(() => release?.());
      } catch (error) {
        // A redirect or an oversized body is the server's answer, not a hiccup: another try gets the same.
        if (error instanceof Redirected || error instanceof TooLarge) {
          logger.debug(`${tag}: ${method} ${pathname} → ${error instanceof Redirected ? `${error.status} to ${error.location}` : 'too large'} (${Date.now() - tryStarted} ms)`);
          throw this.refusedAnswer(error, request.action, label);
        }
        if (error instanceof Stalled) longestStall = Math.max(longestStall, error.ms);
        logger.debug(`${tag}: ${method} ${pathname} → ${error instanceof Stalled ? `no ${error.phase === 'headers' ? 'answer' : 'body'}` : transportCode(error)} (${Date.now() - tryStarted} ms)`);
        const wait = backoff(attempt, limits.backoffLimitMs);
        const left = deadline - Date.now() - wait;
        // Another try only when it can wait as long as this one did (half a timeout at least).
        const room = error instanceof Stalled ? Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 2 : 0;
        if (transportRetries < limits.transportRetries && left > room) {
          transportRetries += 1;
          logger.debug(`${tag}: retry ${attempt} of ${method} ${pathname} in ${Math.round(wait)} ms`);
          await sleep(wait);
          continue;
        }
        // A hang is told by the longest try, not the last one the budget cut short; a drip by its own figure.
        const told = error instanceof Stalled && error.phase !== 'budget' ? new Stalled(error.phase, longestStall) : error;
        throw this.transportError(told, request.action, label, attempt, Date.now() - started);
      }
      logger.debug(`${tag}: ${method} ${pathname} → ${raw.status} (${Date.now() - tryStarted} ms)`);
      const wasSerial = this.options.gate?.serial;
      this.options.gate?.observe(method, raw.status);
      if (wasSerial === false && this.options.gate?.serial) logger.debug(`${tag}: ${this.service.name} refused a write as busy (${raw.status}): writes to it go one at a time from now on`);
      const answer: Answer = { ...raw, label, tries: attempt, ms: Date.now() - started };
      const retriable = RETRY_STATUSES.includes(raw.status) || (raw.status === 500 && repeat500);
      if (!retriable || accept.includes(raw.status)) return answer;
      const retryAfter = parseRetryAfter(raw.headers.get('retry-after'));
      if (retryAfter !== undefined && retryAfter > limits.maxRetryAfterMs) {
        throw new OrchestratorError(
          `Failed to ${request.action}: ${this.service.name} answered ${raw.status} to ${label} and asked to wait ${Math.round(retryAfter / 1000)} s (Retry-After), ` +
            `more than the ${Math.round(limits.maxRetryAfterMs / 1000)} s this tool waits; try again later`,
        );
      }
      if (statusRetries >= limits.retries) return answer;
      const wait = retryAfter ?? backoff(attempt, limits.backoffLimitMs);
      // Waiting must leave a try some time to answer (half a headers timeout, up to 1 s).
      if (Date.now() + wait + Math.min(1000, limits.headersTimeoutMs / 2) > deadline) {
        const detail = readDetail(raw.text);
        throw new OrchestratorError(
          `Failed to ${request.action}: ${this.service.name} answered ${raw.status}${detail ? `: ${detail}` : ''} (${label}); ` +
            `gave up after ${attempt} tries in ${seconds(Date.now() - started)}` +
            (retryAfter !== undefined ? `, it asked to wait ${seconds(retryAfter)} more` : ''),
        );
      }
      statusRetries += 1;
      logger.debug(`${tag}: retry ${attempt} of ${method} ${pathname} in ${Math.round(wait)} ms (${raw.status})`);
      await sleep(wait);
    }
  }

  /** An accepted status (body parsed loosely), a checked 2xx body, or the status as one line. */
  result<S extends z.ZodType>(answer: Answer, request: JsonRequest<S>): JsonResponse<z.output<S>> {
    const { status } = answer;
    if ((request.accept ?? []).includes(status)) return { status, body: parseLoosely(answer.text) as z.output<S> };
    if (status >= 200 && status < 300) return { status, body: this.parse(answer, request) };
    throw this.statusError(request.action, answer);
  }

  /** An error status as one line: who refused, or what the server said, to which request. */
  statusError(action: string, answer: Answer): OrchestratorError {
    const detail = readDetail(answer.text);
    if (refusesCredentials(answer.status)) {
      return new OrchestratorError(`Failed to ${action}: ${credentialsRefused(this.service, answer.status, detail, this.service.credentialsHint)}`);
    }
    const tries = answer.tries > 1 ? `, ${answer.tries} tries in ${seconds(answer.ms)}` : '';
    return new OrchestratorError(`Failed to ${action}: ${this.service.name} answered ${answer.status}${detail ? `: ${detail}` : ''} (${answer.label}${tries})`);
  }

  /** Parses a 2xx body against the schema: JSON first, then the shape. */
  private parse<S extends z.ZodType>(answer: Answer, request: JsonRequest<S>): z.output<S> {
    const fail = (what: string): OrchestratorError =>
      new OrchestratorError(`Failed to ${request.action}: ${this.service.name} answered ${answer.status} to ${answer.label} with ${what}`);
    const text = answer.text;
    let value: unknown = undefined;
    if (text.trim() !== '') {
      const markup = markupKind(answer.headers.get('content-type'), text);
      if (markup) throw fail(`${markup}, not JSON (${snippet(text)}); ${this.service.htmlHint}`);
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw fail(`a body that is not valid JSON (${(error as Error).message}): ${snippet(text)}`);
      }
    }
    const parsed = request.schema.safeParse(value);
    if (!parsed.success) {
      throw fail(`an unexpected body (${describeIssues(parsed.error)}): ${text.trim() === '' ? 'empty' : snippet(text)}`);
    }
    return parsed.data;
  }

  /** A redirect or an oversized body, as one line: never retried, nothing of it followed or kept. */
  private refusedAnswer(error: Redirected | TooLarge, action: string, label: string): OrchestratorError {
    const where = `the ${this.service.name} API at ${this.service.shownUrl}`;
    if (error instanceof TooLarge) {
      return new OrchestratorError(`Failed to ${action}: ${where} answered more than ${mebibytes(error.maxBytes)} to ${label}; refused (a JSON answer this tool reads is far smaller)`);
    }
    return new OrchestratorError(
      `Failed to ${action}: ${where} answered ${error.status} to ${label}, a redirect to ${error.location}; not followed: ` +
        `credentials and writes are not sent to an origin you did not name; if the API moved there, set ${this.service.urlSetting} to its new address`,
    );
  }

  private transportError(error: unknown, action: string, label: string, tries: number, ms: number): OrchestratorError {
    const where = `the ${this.service.name} API at ${this.service.shownUrl}`;
    const after = tries > 1 ? ` (${tries} tries in ${seconds(ms)})` : '';
    if (error instanceof Stalled) return new OrchestratorError(`Failed to ${action}: ${where} ${error.describe(label, this.limits.budgetMs)}${after}`);
    const code = transportCode(error);
    if (isUnreachable(code)) return new OrchestratorError(`Failed to ${action}: cannot reach ${where} (${code})`);
    return new OrchestratorError(`Failed to ${action}: ${where} dropped the connection during ${label} (${code})${after}`);
  }
}

function parseLoosely(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
