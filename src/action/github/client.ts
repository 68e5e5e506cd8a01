import type { getOctokit } from '@actions/github';
import type { ThrottlingOptions } from '@octokit/plugin-throttling';
import type { Logger } from '../../logger.js';
import { githubFetch, GITHUB_LIMITS, type GitHubTimeouts } from './github-fetch.js';

/** The Octokit the action talks to GitHub with: REST methods, paginate, retry, throttling. */
export type GitHubClient = ReturnType<typeof getOctokit>;

/** How often a rate-limited request is retried before the comment is given up. */
const RATE_LIMIT_RETRIES = 2;
/** The longest rate-limit wait honoured; GitHub may ask for an hour. */
const MAX_RATE_LIMIT_WAIT_S = 30;

export interface GitHubClientOptions {
  /** Retries of a failed try (5xx, dropped, hung); the retry plugin waits 1 s, 4 s, 9 s… between them. */
  retries?: number;
  /** The unit of the retry plugin's backoff (n² × this), ms; tests shorten it. */
  retryBaseMs?: number;
  limits?: typeof GITHUB_LIMITS;
  fetch?: typeof globalThis.fetch;
  /** Filled when a try hit its bound or the write its budget (githubFetch). */
  timeouts?: GitHubTimeouts;
  /** Tests only: the throttling plugin's write spacing (1 s apart, as github.com wants). */
  writeGroup?: Extract<ThrottlingOptions, { onRateLimit: unknown }>['write'];
}

/**
 * An Octokit for `token`, for one comment write. Every call goes to `apiUrl`,
 * GITHUB_API_URL on the runner (GitHub Enterprise Server's https://host/api/v3 works
 * as api.github.com does); each try and the write as a whole are bounded
 * (githubFetch), transient failures are retried by the official retry plugin, and
 * rate limits honoured by the throttling plugin up to a cap.
 */
export async function createGitHubClient(token: string, apiUrl: string, logger: Logger, options: GitHubClientOptions = {}): Promise<GitHubClient> {
  // Loaded on first use: @actions/github parses the event payload as it loads, so a broken
  // payload would crash the action before any of its code ran (and a run that writes no
  // comment need not load Octokit at all). Its plugins too: they are a start-up cost otherwise.
  const [{ getOctokit }, { retry }, { throttling }] = await Promise.all([
    import('@actions/github'),
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
  ]);
  const limits = options.limits ?? GITHUB_LIMITS;
  const deadline = Date.now() + limits.budgetMs;
  const mayWait = (retryAfter: number, retryCount: number, what: string, request: { method: string; url: string }): boolean => {
    const wait = retryAfter <= MAX_RATE_LIMIT_WAIT_S && Date.now() + retryAfter * 1000 < deadline && retryCount < RATE_LIMIT_RETRIES;
    logger.warning(
      `GitHub's ${what} was hit by ${request.method} ${request.url}; ` +
        (wait ? `retrying in ${retryAfter} s` : `it asks to wait ${retryAfter} s, more than this comment may wait: giving up`),
    );
    return wait;
  };
  return getOctokit(
    token,
    {
      // getOctokit reads GITHUB_API_URL once, when @actions/github is first imported: say it again.
      baseUrl: apiUrl.replace(/\/+$/, ''),
      request: { fetch: githubFetch(limits, options.fetch, options.timeouts) },
      retry: { retries: options.retries ?? 2, retryAfterBaseValue: options.retryBaseMs ?? 1000 },
      throttle: {
        ...(options.writeGroup ? { write: options.writeGroup } : {}),
        onRateLimit: (retryAfter, request, _octokit, retryCount) => mayWait(retryAfter, retryCount, 'rate limit', request),
        onSecondaryRateLimit: (retryAfter, request, _octokit, retryCount) => mayWait(retryAfter, retryCount, 'secondary rate limit', request),
      } satisfies ThrottlingOptions,
    },
    retry,
    throttling,
  );
}
