import * as core from '@actions/core';
import type { CiContext } from '../ci-context.js';
import { describeError, UserError } from '../errors.js';
import type { GitHubTimeouts } from './github/github-fetch.js';
import { GitHubAnswerError } from './github/api.js';
import type { CoreLogger } from './core-logger.js';
import { createGitHubClient, type GitHubClient, type GitHubClientOptions } from './github/client.js';
import { commentOnPullRequest } from './github/pr-comment.js';
import { findPullRequest, type PullRequestTarget } from './github/pull-request.js';
import { TokenIdentity } from './github/token-identity.js';
import type { ActionSettings } from './inputs.js';
import { setCommentUrl } from './outputs.js';
import { linkNote, type Note } from './report/render.js';

/**
 * The run's sticky PR comment: progress writes while the work is in flight, then the
 * final one. One look-up of the pull request, and of who the token writes as, serves
 * every write. Everything written passes the logger's redaction.
 */
export class CommentWriter {
  private target?: Promise<PullRequestTarget | undefined>;
  private progressEnabled = true;
  private createdByProgress = false;
  private readonly identity = new TokenIdentity();
  /** A write that failed because GitHub hung or took its whole budget: the later writes fail at once with it. */
  private gaveUp?: Error;

  constructor(
    private readonly settings: ActionSettings,
    private readonly ci: CiContext,
    private readonly logger: CoreLogger,
    /** Tests only: shorter limits and retry waits than GitHub's defaults. */
    private readonly clientOptions: GitHubClientOptions = {},
  ) {
    if (settings.comment === 'never' || !settings.githubToken) this.progressEnabled = false;
  }

  private client(timeouts: GitHubTimeouts): Promise<GitHubClient> {
    if (!this.settings.githubToken) throw new UserError('the github-token input is empty');
    return createGitHubClient(this.settings.githubToken, this.ci.apiUrl, this.logger, { ...this.clientOptions, timeouts });
  }

  /**
   * One write, bounded by its own budget. Once one failed by a timeout, GitHub is not
   * waited for again in this step: without this a hung GitHub cost the progress write
   * and the final one a full budget each.
   */
  private async write(key: string, markdown: string) {
    if (this.gaveUp) throw this.gaveUp;
    const timeouts: GitHubTimeouts = {};
    try {
      return await this.attempt(key, markdown, timeouts);
    } catch (error) {
      if (timeouts.hit) this.gaveUp = new GitHubAnswerError(`${describeError(error)}; GitHub is not waited for again in this step`);
      throw error;
    }
  }

  private attempt(key: string, markdown: string, timeouts: GitHubTimeouts) {
    // A look-up that failed is tried again by the next write, not remembered.
    const findTarget = (client: GitHubClient) =>
      (this.target ??= findPullRequest(client, this.ci).catch((error: unknown) => {
        this.target = undefined;
        throw error;
      }));
    const body = this.logger.redact(markdown);
    return commentOnPullRequest(() => this.client(timeouts), { mode: this.settings.comment, ci: this.ci, key, body, findTarget, identity: this.identity }, this.logger);
  }

  /**
   * Best effort: so that the previous push's ✅ does not stand during a long build or
   * wait. The first write that does not succeed ends the progress writes (the final
   * write reports why); a throw reaches the caller, which only warns.
   */
  async progress(key: string, markdown: string, label: string): Promise<void> {
    if (!this.progressEnabled) return;
    this.progressEnabled = false;
    const outcome = await this.write(key, markdown);
    if (outcome.status !== 'written') return;
    this.progressEnabled = true;
    this.createdByProgress ||= outcome.action === 'created';
    this.logger.debug(`PR comment ${outcome.action} with the progress ${label}: ${outcome.url}`);
  }

  /**
   * The final comment. One that cannot be written never fails a deployment (a notice
   * says why, in `notes` too, and the summary is still written) unless `comment:
   * always` asked for it: then the failure is returned, to fail the step after the summary.
   */
  async final(key: string, markdown: string, notes: Note[]): Promise<Error | undefined> {
    let problem: string | undefined;
    let unexpected = false;
    try {
      const outcome = await this.write(key, markdown);
      if (outcome.status === 'written') {
        setCommentUrl(outcome.url);
        // Created by this run's progress write, then completed: to a reader, this run created it.
        const action = this.createdByProgress ? 'created' : outcome.action;
        this.logger.info(`PR comment ${action} on #${outcome.pullRequest}: ${outcome.url}`);
        notes.push(linkNote('PR comment', outcome.url, `${action} on pull request #${outcome.pullRequest}.`));
      } else if (outcome.status === 'none') {
        this.logger.info(`No PR comment: ${outcome.reason}`);
        if (this.settings.comment === 'always') problem = `No PR comment: ${outcome.reason} (comment: always)`;
      } else {
        problem = outcome.reason;
      }
    } catch (error) {
      problem = error instanceof UserError ? error.message : `Failed to write the PR comment: ${describeError(error)}`;
      unexpected = true;
    }
    if (!problem) return undefined;
    notes.push(problem);
    if (this.settings.comment === 'always') return new UserError(problem);
    // A known refusal (fork, read-only token) is a notice; anything else deserves a warning.
    if (unexpected) core.warning(this.logger.redact(problem));
    else core.notice(this.logger.redact(problem));
    return undefined;
  }
}
