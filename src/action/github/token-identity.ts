import type { Logger } from '../../logger.js';
import { authenticatedLogin, viewerLogin } from './api.js';
import type { GitHubClient } from './client.js';

/**
 * Who the token writes comments as: the one author whose marked comments are ours.
 * Learnt once per step and remembered by its writes (progress, then final): from the
 * author of a comment this token created (exact, and free), else asked of GitHub.
 * Never guessed from an account's type: with GITHUB_TOKEN, "any Bot" took over other
 * bots' comments.
 */
export class TokenIdentity {
  private login?: string;

  /** The author GitHub gave a comment this token just created. */
  learn(login: string): void {
    this.login ??= login;
  }

  async loginOf(octokit: GitHubClient, logger: Logger): Promise<string> {
    this.login ??= await lookUp(octokit, logger);
    return this.login;
  }
}

/**
 * A user's token: GET /user. An installation token (GITHUB_TOKEN, a GitHub App's),
 * which GET /user refuses with 403: GraphQL's viewer, which names its bot
 * (github-actions[bot] for GITHUB_TOKEN, <app-slug>[bot] for an app).
 */
async function lookUp(octokit: GitHubClient, logger: Logger): Promise<string> {
  let login: string;
  try {
    login = await authenticatedLogin(octokit);
  } catch (error) {
    if ((error as { status?: number }).status !== 403) throw error;
    login = await viewerLogin(octokit);
  }
  logger.debug(`Comments are written as ${login}`);
  return login;
}
