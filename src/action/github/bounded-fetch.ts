/**
 * How long GitHub may take. Octokit's own requests have no timeout at all: a GitHub
 * API (or an Enterprise Server, or a proxy) that accepts and never answers would hold
 * the job until its 6-hour limit. Each try gets `tryTimeoutMs` for its headers and
 * whole body; one comment write (every request, retry and backoff in it) gets
 * `budgetMs`, after which every further try fails at once. With the retry plugin's
 * backoff (1 s, then 4 s) a hung GitHub costs one write at most about 65 s.
 */
export const GITHUB_LIMITS = { tryTimeoutMs: 20_000, budgetMs: 60_000 };

/**
 * A fetch for Octokit that bounds each try and the write as a whole, and says which
 * request hung. The body is read inside the bound, so a body that stops half-way is
 * a hang too, not an endless read in Octokit.
 */
export function boundedFetch(limits: typeof GITHUB_LIMITS, base: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch {
  const deadline = Date.now() + limits.budgetMs;
  return async (input, init) => {
    const label = `${init?.method ?? 'GET'} ${new URL(input instanceof Request ? input.url : String(input)).pathname}`;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`gave up on ${label}: GitHub took more than the ${seconds(limits.budgetMs)} one comment may take`);
    const ms = Math.min(limits.tryTimeoutMs, left);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    try {
      const response = await base(input, { ...init, signal });
      const body = await response.arrayBuffer();
      const empty = body.byteLength === 0 || response.status === 204 || response.status === 304;
      return new Response(empty ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (error) {
      // Not an AbortError: Octokit passes those through as they are, unretried and unexplained.
      if (controller.signal.aborted) throw new Error(`the GitHub API hung: ${label} did not answer in ${seconds(ms)}`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 1000)} s`;
}
