import type { CiContext } from '../../ci-context.js';
import { describeError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { describeGitHubError, GitHubAnswerError } from './api.js';
import type { GitHubClient } from './client.js';
import { findPullRequest, pullRequestFromEvent, type PullRequestTarget } from './pull-request.js';
import { workflowScope } from './comment-marker.js';
import { upsertStickyComment } from './sticky-comment.js';
import { TokenIdentity } from './token-identity.js';

/**
 * auto: on pull_request events, and on a push whose commit belongs to a merged PR.
 * always: wherever a pull request can be found (also workflow_dispatch, schedule…),
 * and a comment that cannot be written fails the step. never: no GitHub call at all.
 */
export type CommentMode = 'auto' | 'always' | 'never';

export type CommentOutcome =
  | { status: 'written'; url: string; action: 'created' | 'updated'; pullRequest: number }
  /** Nothing to do: not asked for, or no pull request here. Logged at info level. */
  | { status: 'none'; reason: string }
  /** Wanted but not possible (fork, read-only token): a notice, or a failure with `always`. */
  | { status: 'skipped'; reason: string };

export interface CommentRequest {
  mode: CommentMode;
  ci: CiContext;
  key: string;
  body: string;
  /**
   * Finds the pull request; given when several writes in one run share one look-up
   * (the progress comment and the final one). Default: findPullRequest.
   */
  findTarget?: (client: GitHubClient) => Promise<PullRequestTarget | undefined>;
  /** Who the token writes as, shared by the writes of one step so that it is learnt once. Default: learnt anew. */
  identity?: TokenIdentity;
}

const PR_EVENTS = new Set(['pull_request', 'pull_request_target']);
const PERMISSION_HINT = "give the workflow 'permissions: pull-requests: write' (a fork's pull_request run never has it)";

/** Posts or updates the deployment's sticky comment on the run's pull request, if any. */
export async function commentOnPullRequest(octokit: () => Promise<GitHubClient>, request: CommentRequest, logger: Logger): Promise<CommentOutcome> {
  const { mode, ci } = request;
  if (mode === 'never') return { status: 'none', reason: 'comment: never' };
  if (mode === 'auto' && !PR_EVENTS.has(ci.eventName) && ci.eventName !== 'push') {
    return { status: 'none', reason: `no comment on ${ci.eventName || 'this'} event (comment: auto comments on pull_request and push)` };
  }
  const fromEvent = pullRequestFromEvent(ci);
  if (fromEvent?.fromFork && ci.eventName === 'pull_request') {
    return {
      status: 'skipped',
      reason: `No comment on pull request #${fromEvent.number}: it comes from a fork, and GitHub gives a fork's pull_request run a read-only token. The job summary has the report.`,
    };
  }
  const client = await octokit();
  let target: PullRequestTarget | undefined;
  try {
    target = await (request.findTarget ?? ((c: GitHubClient) => findPullRequest(c, ci)))(client);
  } catch (error) {
    return writeFailure(error, 'find the pull request of commit ' + ci.shortSha);
  }
  if (!target) return { status: 'none', reason: `no pull request found for commit ${ci.shortSha || '(unknown)'}` };
  try {
    const written = await upsertStickyComment(
      client,
      { owner: target.owner, repo: target.repo, issueNumber: target.number, key: request.key, scope: workflowScope(ci), body: request.body },
      request.identity ?? new TokenIdentity(),
      logger,
    );
    return { status: 'written', url: written.url, action: written.action, pullRequest: target.number };
  } catch (error) {
    return writeFailure(error, `comment on pull request #${target.number}`);
  }
}

/**
 * A refused write is a skipped comment (with why); anything else is an error the
 * caller reports, in one line. A 403 for a rate limit is not a missing permission.
 */
function writeFailure(error: unknown, what: string): CommentOutcome {
  const status = (error as { status?: number }).status;
  const said = describeGitHubError(error);
  if ((status === 403 || status === 404) && !/rate limit/i.test(said)) {
    const cause = describeError(error).split(' - ')[0];
    return { status: 'skipped', reason: `Failed to ${what}: ${cause} (${status}); ${PERMISSION_HINT}. The job summary has the report.` };
  }
  throw new GitHubAnswerError(`Failed to ${what}: ${said}`);
}
