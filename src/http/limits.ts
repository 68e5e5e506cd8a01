/**
 * How long one HTTP call to an orchestrator may take, for Prefect and Airflow alike:
 * the one place these bounds are defined.
 *
 * - A try waits at most `headersTimeoutMs` for the response headers, and at most
 *   `bodyTimeoutMs` between two chunks of the body (a body that stops flowing).
 * - A call (every try, backoff and Retry-After wait included) ends by `budgetMs`.
 *   Another try starts only when it still has half a timeout to run.
 * - A Retry-After above `maxRetryAfterMs` fails the call at once, saying so.
 *
 * Defaults: 20 s per try, 45 s per call. A server that accepts and never answers
 * therefore fails in about 41 s (two tries of 20 s and a backoff), with a message
 * saying it hung.
 *
 * Prefect: PREFECT_API_REQUEST_TIMEOUT sets both per-try timeouts; the budget is then
 * twice it plus 5 s.
 *
 * Airflow: orchestrator.config.request_timeout (default 30 s) is the budget of one
 * call; each try gets half of it, at most 20 s. A hung Airflow fails in at most
 * request_timeout: with the default, two tries of 15 s, "hung: … did not answer in 15 s".
 *
 * An answer's body is read up to `maxBodyBytes` (16 MiB): the largest JSON these APIs
 * send a step (a page of flow runs, a DAG's task instances, a task's log) is well
 * under 1 MiB. Past it the body is cancelled, not drained, and the call fails at once,
 * unretried ("Prefect answered more than 16 MiB to GET …; refused"): a hostile or
 * broken server cannot fill the runner's memory (a 500 MB answer took the process to
 * 2.1 GB before this bound).
 *
 * Options given to a client override all of these.
 */
export const MAX_BODY_BYTES = 16 * 2 ** 20;

export const HTTP_DEFAULTS = {
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
  /** The most body read from one answer. */
  maxBodyBytes: MAX_BODY_BYTES,
};

export type HttpLimits = typeof HTTP_DEFAULTS;

/** What a caller may set; anything unset takes its default (see above). */
export interface HttpLimitOptions {
  /** Both per-try timeouts at once (PREFECT_API_REQUEST_TIMEOUT); the budget becomes twice it plus 5 s. */
  perTryMs?: number;
  /** The budget of one call; without a per-try timeout, each try gets half of it (at most the default). */
  budgetMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxRetryAfterMs?: number;
  retries?: number;
  transportRetries?: number;
  backoffLimitMs?: number;
  maxBodyBytes?: number;
}

export function resolveLimits(options: HttpLimitOptions = {}): HttpLimits {
  const { perTryMs } = options;
  const budgetMs = options.budgetMs ?? (perTryMs ? 2 * perTryMs + 5_000 : HTTP_DEFAULTS.budgetMs);
  // Without a per-try timeout, a budget leaves room for two tries.
  const perTry = perTryMs ?? (options.budgetMs !== undefined ? Math.min(HTTP_DEFAULTS.headersTimeoutMs, budgetMs / 2) : undefined);
  return {
    headersTimeoutMs: options.headersTimeoutMs ?? perTry ?? HTTP_DEFAULTS.headersTimeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs ?? perTry ?? HTTP_DEFAULTS.bodyTimeoutMs,
    budgetMs,
    maxRetryAfterMs: options.maxRetryAfterMs ?? HTTP_DEFAULTS.maxRetryAfterMs,
    retries: options.retries ?? HTTP_DEFAULTS.retries,
    transportRetries: options.transportRetries ?? HTTP_DEFAULTS.transportRetries,
    backoffLimitMs: options.backoffLimitMs ?? HTTP_DEFAULTS.backoffLimitMs,
    maxBodyBytes: options.maxBodyBytes ?? HTTP_DEFAULTS.maxBodyBytes,
  };
}
