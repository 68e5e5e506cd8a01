/** One complete answer: status, headers and the whole body. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** A try that waited too long: for the headers, or for the next chunk of the body. */
export class Stalled extends Error {
  constructor(
    readonly phase: 'headers' | 'body',
    readonly ms: number,
  ) {
    super(`stalled (${phase})`);
  }
}

/**
 * One try, bounded: the headers within `headersMs`, then no gap of more than
 * `bodyMs` between two chunks of the body, and nothing past `deadline`. Throws
 * `Stalled` when a bound is hit, fetch's own error otherwise. Aborting also ends a
 * fetch that ignores the signal (the race), so nothing hangs.
 */
export async function fetchBounded(
  fetch: typeof globalThis.fetch,
  url: string,
  init: RequestInit,
  headersMs: number,
  bodyMs: number,
  deadline: number,
): Promise<RawAnswer> {
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
    const response = await Promise.race([fetch(url, { ...init, signal: controller.signal }), aborted]);
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
