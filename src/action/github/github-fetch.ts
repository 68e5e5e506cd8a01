import { fetchBounded, Redirected, Stalled, TooLarge } from '../../http/bounded-fetch.js';
import { seconds } from '../../http/retry.js';
import { defaultFetch } from '../../http/proxy.js';

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
 * What one comment write learns of GitHub's time: set when a try hit its bound or the
 * write spent its budget, with the line that says so. The step's later writes are
 * not made when a write failed so (src/action/comment.ts): a hung GitHub costs the
 * step one budget, not one per write.
 */
export interface GitHubTimeouts {
  hit?: string;
}

/**
 * A fetch for Octokit that bounds each try and the write as a whole (the same
 * bounded try the orchestrator clients make, src/http/bounded-fetch.ts), and says
 * which request hung. The body is read inside the bound, so a body that stops
 * half-way is a hang too, not an endless read in Octokit.
 */
export function githubFetch(limits: typeof GITHUB_LIMITS, base: typeof globalThis.fetch = defaultFetch, timeouts: GitHubTimeouts = {}): typeof globalThis.fetch {
  const deadline = Date.now() + limits.budgetMs;
  const timedOut = (line: string) => {
    timeouts.hit ??= line;
    return new Error(line);
  };
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const label = `${init?.method ?? 'GET'} ${new URL(url).pathname}`;
    if (deadline - Date.now() <= 0) throw timedOut(`gave up on ${label}: GitHub took more than the ${seconds(limits.budgetMs)} one comment may take`);
    try {
      const answer = await fetchBounded(base, url, init ?? {}, limits.tryTimeoutMs, limits.tryTimeoutMs, deadline);
      const empty = answer.text === '' || answer.status === 204 || answer.status === 304;
      return new Response(empty ? null : answer.text, { status: answer.status, headers: answer.headers });
    } catch (error) {
      // A plain Error, not an AbortError: Octokit passes those through unretried and unexplained.
      if (error instanceof Stalled) throw timedOut(`the GitHub API ${error.describe(label, limits.budgetMs)}`);
      // A redirect (never followed, the token stays with the configured API) or an oversized body.
      if (error instanceof Redirected || error instanceof TooLarge) throw new Error(`the GitHub API ${error.message} (${label})`);
      throw error;
    }
  };
}
