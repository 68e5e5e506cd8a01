/** Statuses that say "try again" whatever the request (a 500 only by RepeatAfter500). */
export const RETRY_STATUSES = [408, 429, 502, 503, 504];

/** Retry-After in ms: seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Exponential backoff with jitter (as Prefect's own client does), at most `limitMs`. */
export function backoff(attempt: number, limitMs: number): number {
  return Math.min(limitMs, 500 * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
}

/** "0.3 s", "4.5 s", "41 s". */
export function seconds(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 1000)} s`;
}

