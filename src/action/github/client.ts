import type { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import type { Logger } from '../../logger.js';

/** The Octokit the action talks to GitHub with: REST methods, paginate, retry, throttling. */
export type GitHubClient = ReturnType<typeof getOctokit>;

/** How often a rate-limited request is retried before the comment is given up. */
const RATE_LIMIT_RETRIES = 2;

/**
 * An Octokit for `token`. Every call goes to `apiUrl`, GITHUB_API_URL on the runner
 * (GitHub Enterprise Server's https://host/api/v3 works as api.github.com does);
 * transient failures are retried by the official retry plugin and rate limits
 * honoured by the throttling plugin.
 */
export async function createGitHubClient(token: string, apiUrl: string, logger: Logger, options: { retries?: number } = {}): Promise<GitHubClient> {
  // Loaded on first use: @actions/github parses the event payload as it loads, so a broken
  // payload would crash the action before any of its code ran (and a run that writes no
  // comment need not load Octokit at all).
  const { getOctokit } = await import('@actions/github');
  return getOctokit(
    token,
    {
      // getOctokit reads GITHUB_API_URL once, when @actions/github is first imported: say it again.
      baseUrl: apiUrl.replace(/\/+$/, ''),
      retry: { retries: options.retries ?? 3 },
      throttle: {
        onRateLimit: (retryAfter, request, _octokit, retryCount) => {
          logger.warning(`GitHub's rate limit was hit by ${request.method} ${request.url}; retrying in ${retryAfter} s`);
          return retryCount < RATE_LIMIT_RETRIES;
        },
        onSecondaryRateLimit: (retryAfter, request, _octokit, retryCount) => {
          logger.warning(`GitHub's secondary rate limit was hit by ${request.method} ${request.url}; retrying in ${retryAfter} s`);
          return retryCount < RATE_LIMIT_RETRIES;
        },
      },
    },
    retry,
    throttling,
  );
}
