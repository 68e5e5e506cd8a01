import { MAX_BODY_BYTES } from './limits.js';
import { seconds } from './retry.js';
import { printableUrl } from './url-credentials.js';

/** One complete answer: status, headers and the whole body. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A try given up: no headers in time, a body that stopped flowing, or a body still
 * arriving when the call's whole budget ran out (a drip within the per-chunk bound).
 */
export class Stalled extends Error {
  constructor(
    readonly phase: 'headers' | 'body' | 'budget',
    /** How long nothing had arrived when the try was given up. */
    readonly ms: number,
  ) {
    super(`stalled (${phase})`);
  }

  /** What happened to `label` ("GET /x") within `budgetMs`, after "the X API at …". */
  describe(label: string, budgetMs: number): string {
    if (this.phase === 'headers') return `hung: ${label} did not answer in ${seconds(this.ms)}`;
    if (this.phase === 'body') return `hung: the answer to ${label} stopped for ${seconds(this.ms)} before its end`;
    // A drip (chunks within the per-chunk bound) or a stall cut short by the deadline: say which by the last pause.
    return `was too slow: the answer to ${label} was not complete when the ${seconds(budgetMs)} budget ran out (nothing had arrived for ${seconds(this.ms)})`;
  }
}

/**
 * A redirect, not followed. A 3xx names another URL to send the same request to:
 * with the Authorization header, a login body or a write. Following it would send
 * them to an origin the user never named (a 307 from a hostile or misconfigured
 * server, a proxy's http→https hop to another host), so no redirect is followed,
 * not even an unauthenticated GET to the same origin: the clients build exact URLs
 * from the configured base, so a redirect always means the configured URL is not the
 * API's, and saying so once beats following it on every call (and keeps one rule,
 * with no case where a credential could go along).
 */
export class Redirected extends Error {
  /** Where it pointed, absolute, without userinfo, query or fragment: safe to print. */
  readonly location: string;

  constructor(
    readonly status: number,
    location: string,
    requestUrl: string,
  ) {
    let target: string;
    try {
      const url = new URL(location, requestUrl);
      url.search = '';
      url.hash = '';
      target = printableUrl(url.href);
    } catch {
      target = 'an unreadable Location';
    }
    super(`answered ${status}, a redirect to ${target}: not followed (credentials and writes go only to the configured origin)`);
    this.location = target;
  }
}

/** A body larger than a client reads: refused, the rest never read. */
export class TooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`answered more than ${mebibytes(maxBytes)}; refused`);
  }
}

/**
 * One try, bounded: the headers within `headersMs`, then no gap of more than
 * `bodyMs` between two chunks of the body, nothing past `deadline`, and at most
 * `maxBytes` of body (MAX_BODY_BYTES by default, src/http/limits.ts). Throws
 * `Stalled` when a time bound is hit, `TooLarge` past the size (the body is
 * cancelled, not drained), `Redirected` for a 3xx with a Location, fetch's own error
 * otherwise. Aborting also ends a fetch that ignores the signal (the race), so
 * nothing hangs.
 */
export async function fetchBounded(
  fetch: typeof globalThis.fetch,
  url: string,
  init: RequestInit,
  headersMs: number,
  bodyMs: number,
  deadline: number,
  maxBytes = MAX_BODY_BYTES,
): Promise<RawAnswer> {
  const controller = new AbortController();
  let stalled: Stalled | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (phase: 'headers' | 'body', ms: number): void => {
    clearTimeout(timer);
    const wait = Math.max(0, Math.min(ms, deadline - Date.now()));
    // A body cut short by the deadline, not by its own bound, ran out of budget.
    const cause = phase === 'body' && wait < ms ? 'budget' : phase;
    const armed = Date.now();
    timer = setTimeout(() => {
      stalled = new Stalled(cause, cause === 'budget' ? Date.now() - armed : wait);
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
    const response = await Promise.race([fetch(url, { ...init, redirect: 'manual', signal: controller.signal }), aborted]);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) throw new Redirected(response.status, location, url);
    // A HEAD answer states the length of a body it does not send.
    if (init.method !== 'HEAD' && Number(response.headers.get('content-length') ?? 0) > maxBytes) throw new TooLarge(maxBytes);
    arm('body', bodyMs);
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    if (response.body) {
      reader = response.body.getReader();
      for (;;) {
        const { done, value } = await Promise.race([reader.read(), aborted]);
        if (done) break;
        bytes += value.byteLength;
        if (bytes > maxBytes) throw new TooLarge(maxBytes);
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
    // Aborting also ends a body never read (a redirect's, a refused size's).
    if (!controller.signal.aborted) controller.abort();
    reader?.cancel().catch(() => undefined);
  }
}

/** "16 MiB". */
export function mebibytes(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}

/** Codes of a server that is not there (as opposed to one that dropped a connection). */
const UNREACHABLE = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'];

export function isUnreachable(code: string): boolean {
  return UNREACHABLE.includes(code);
}

/** ECONNRESET, UND_ERR_SOCKET, …: the most specific code or message of a fetch failure, without credentials in URLs. */
export function transportCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const raw = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return raw.replace(/\b(https?:\/\/)[^/\s@]+@/g, '$1');
}
