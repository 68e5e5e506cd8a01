import type { Logger } from '../../logger.js';
import type { GitHubClient } from './client.js';

/** The hidden first line that marks a comment as the one for a deployment. */
export function commentMarker(key: string): string {
  // Only characters that cannot end an HTML comment or break the line; short enough
  // to fit in the room COMMENT_LIMIT leaves under GitHub's 65,536 characters.
  const safe = key.replace(/[^A-Za-z0-9._/:@+-]/g, '_').replace(/-{2,}/g, '-').slice(0, 200);
  return `<!-- lolpop-deploy:${safe} -->`;
}

export interface StickyCommentRequest {
  owner: string;
  repo: string;
  issueNumber: number;
  /** One comment per key (the deployment's name): two deployments keep two comments. */
  key: string;
  /** The Markdown, without the marker. */
  body: string;
}

export interface StickyCommentResult {
  id: number;
  url: string;
  action: 'created' | 'updated';
}

interface CommentAuthor {
  login: string;
  type: string;
}

/**
 * Creates the deployment's comment, or updates it in place when it exists. Found
 * by its marker AND its author, the token's own identity: for a user's token the
 * login GET /user gives; for GITHUB_TOKEN and app tokens (which GET /user refuses)
 * a Bot account — so a person quoting the marker never has their comment taken over.
 * Every page is read: a pull request may have hundreds of comments.
 */
export async function upsertStickyComment(octokit: GitHubClient, request: StickyCommentRequest, logger: Logger): Promise<StickyCommentResult> {
  const { owner, repo, issueNumber } = request;
  const marker = commentMarker(request.key);
  const body = `${marker}\n${request.body}`;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 });
  const marked = comments.filter((c) => c.body?.includes(marker) && c.user);
  let existing: (typeof comments)[number] | undefined;
  if (marked.length > 0) {
    const isOurs = await authorMatcher(octokit, logger);
    // The oldest one: where readers of the PR first saw it.
    existing = marked.filter((c) => isOurs(c.user!)).sort((a, b) => a.id - b.id)[0];
  }
  if (existing) {
    const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
    return { id: data.id, url: data.html_url, action: 'updated' };
  }
  const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
  return keepOldest(octokit, request, { id: data.id, url: data.html_url, action: 'created' }, logger);
}

/**
 * Two jobs on one PR (two quick pushes) can both find no comment and both create
 * one. After creating, look again: when there is an older comment of ours with the
 * same marker, ours is the duplicate — remove it and write this body into the oldest.
 * Whichever job creates last sees both, so one comment remains in every order.
 */
async function keepOldest(octokit: GitHubClient, request: StickyCommentRequest, created: StickyCommentResult, logger: Logger): Promise<StickyCommentResult> {
  const { owner, repo, issueNumber } = request;
  const marker = commentMarker(request.key);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 });
  const older = comments.filter((c) => c.body?.includes(marker) && c.user && c.id < created.id);
  // The common case: nothing older with this marker, and no identity look-up needed.
  if (older.length === 0) return created;
  const isOurs = await authorMatcher(octokit, logger);
  const oldest = older.filter((c) => isOurs(c.user!)).sort((a, b) => a.id - b.id)[0];
  if (!oldest) return created;
  logger.info(`Another job created comment ${oldest.id} for ${request.key} at the same time: removing the duplicate ${created.id}`);
  try {
    await octokit.rest.issues.deleteComment({ owner, repo, comment_id: created.id });
  } catch (error) {
    // The other job may have removed it already.
    if ((error as { status?: number }).status !== 404) throw error;
  }
  const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: oldest.id, body: `${marker}\n${request.body}` });
  return { id: data.id, url: data.html_url, action: 'updated' };
}

/** Who this token writes comments as. */
async function authorMatcher(octokit: GitHubClient, logger: Logger): Promise<(user: CommentAuthor) => boolean> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    logger.debug(`Comments are written as ${data.login}`);
    return (user) => user.login === data.login;
  } catch (error) {
    const status = (error as { status?: number }).status;
    // Installation tokens (GITHUB_TOKEN, GitHub Apps) may not read /user: they write as a bot.
    if (status !== 403) throw error;
    logger.debug('The token is an installation token (GET /user refused): comments are written by a bot account');
    return (user) => user.type === 'Bot';
  }
}
