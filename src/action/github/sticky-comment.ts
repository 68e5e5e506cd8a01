import type { Logger } from '../../logger.js';
import { authenticatedLogin, createComment, deleteComment, listComments, updateComment, type Comment } from './answers.js';
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
 * Every page is read: a pull request may have hundreds of comments. Every answer is
 * checked before it is used (answers.ts).
 */
export async function upsertStickyComment(octokit: GitHubClient, request: StickyCommentRequest, logger: Logger): Promise<StickyCommentResult> {
  const where = { owner: request.owner, repo: request.repo, issueNumber: request.issueNumber };
  const marker = commentMarker(request.key);
  const body = `${marker}\n${request.body}`;
  const marked = (await listComments(octokit, where)).filter((c) => c.body?.includes(marker) && c.user);
  const ours = marked.length > 0 ? await oursOldestFirst(octokit, marked, logger) : [];
  if (ours.length > 0) {
    // The oldest one: where readers of the PR first saw it.
    const data = await updateComment(octokit, where, ours[0]!.id, body);
    await removeDuplicates(octokit, request, ours.slice(1), logger);
    return { id: data.id, url: data.html_url, action: 'updated' };
  }
  const data = await createComment(octokit, where, body);
  return keepOldest(octokit, request, { id: data.id, url: data.html_url, action: 'created' }, logger);
}

/**
 * Two jobs on one PR (two quick pushes) can both find no comment and both create
 * one; a create whose answer was lost and was retried leaves two as well. After
 * creating, look again: when there is an older comment of ours with the same
 * marker, ours is the duplicate — remove it (and any other newer one) and write
 * this body into the oldest. Whichever job creates last sees both, so one comment
 * remains in every order; a write that fails half-way leaves a duplicate that the
 * next write for the same key removes.
 */
async function keepOldest(octokit: GitHubClient, request: StickyCommentRequest, created: StickyCommentResult, logger: Logger): Promise<StickyCommentResult> {
  const where = { owner: request.owner, repo: request.repo, issueNumber: request.issueNumber };
  const marker = commentMarker(request.key);
  const comments = await listComments(octokit, where);
  const others = comments.filter((c) => c.body?.includes(marker) && c.user && c.id !== created.id);
  // The common case: nothing else with this marker, and no identity look-up needed.
  if (others.length === 0) return created;
  const ours = await oursOldestFirst(octokit, others, logger);
  const oldest = ours[0];
  if (!oldest || oldest.id > created.id) {
    await removeDuplicates(octokit, request, ours, logger);
    return created;
  }
  logger.info(`Another comment for ${request.key} exists (${oldest.id}): removing the duplicate ${created.id}`);
  await removeDuplicates(octokit, request, [...ours.slice(1), { id: created.id }], logger);
  const data = await updateComment(octokit, where, oldest.id, `${marker}\n${request.body}`);
  return { id: data.id, url: data.html_url, action: 'updated' };
}

async function removeDuplicates(octokit: GitHubClient, request: StickyCommentRequest, duplicates: ReadonlyArray<{ id: number }>, logger: Logger): Promise<void> {
  for (const { id } of duplicates) {
    logger.debug(`Removing duplicate comment ${id} for ${request.key}`);
    await deleteComment(octokit, request, id);
  }
}

/** The comments this token wrote, oldest first. */
async function oursOldestFirst(octokit: GitHubClient, comments: Comment[], logger: Logger): Promise<Comment[]> {
  const isOurs = await authorMatcher(octokit, logger);
  return comments.filter((c) => c.user && isOurs(c.user)).sort((a, b) => a.id - b.id);
}

/** Who this token writes comments as. */
async function authorMatcher(octokit: GitHubClient, logger: Logger): Promise<(user: CommentAuthor) => boolean> {
  try {
    const login = await authenticatedLogin(octokit);
    logger.debug(`Comments are written as ${login}`);
    return (user) => user.login === login;
  } catch (error) {
    const status = (error as { status?: number }).status;
    // Installation tokens (GITHUB_TOKEN, GitHub Apps) may not read /user: they write as a bot.
    if (status !== 403) throw error;
    logger.debug('The token is an installation token (GET /user refused): comments are written by a bot account');
    return (user) => user.type === 'Bot';
  }
}
