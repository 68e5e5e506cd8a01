import type { Logger } from '../../logger.js';
import { createComment, deleteComment, listComments, updateComment, type Comment } from './api.js';
import type { GitHubClient } from './client.js';
import { commentMarker } from './comment-marker.js';
import type { TokenIdentity } from './token-identity.js';

export interface StickyCommentRequest {
  owner: string;
  repo: string;
  issueNumber: number;
  /** One comment per key (the deployment's name): two deployments keep two comments. */
  key: string;
  /** The workflow writing it (workflowScope): two workflows keep two comments. */
  scope: string;
  /** The Markdown, without the marker. */
  body: string;
}

export interface StickyCommentResult {
  id: number;
  url: string;
  action: 'created' | 'updated';
}

/**
 * Creates the deployment's comment, or updates it in place when it exists. A comment
 * is ours only when it starts with this workflow's marker for the key AND its author
 * is the token's own identity (token-identity.ts): a person quoting the marker,
 * another bot, another workflow's comment are never updated nor deleted. Every page
 * is read: a pull request may have hundreds of comments. Every answer is checked
 * before it is used (answers.ts).
 */
export async function upsertStickyComment(octokit: GitHubClient, request: StickyCommentRequest, identity: TokenIdentity, logger: Logger): Promise<StickyCommentResult> {
  const where = { owner: request.owner, repo: request.repo, issueNumber: request.issueNumber };
  const marker = commentMarker(request.key, request.scope);
  const body = `${marker}\n${request.body}`;
  const marked = (await listComments(octokit, where)).filter((c) => c.body?.startsWith(marker));
  const ours = marked.length > 0 ? oursOldestFirst(marked, await identity.loginOf(octokit, logger)) : [];
  if (ours.length > 0) {
    // The oldest one: where readers of the PR first saw it.
    const data = await updateComment(octokit, where, ours[0]!.id, body);
    await removeDuplicates(octokit, request, ours.slice(1), logger);
    return { id: data.id, url: data.html_url, action: 'updated' };
  }
  const data = await createComment(octokit, where, body);
  if (data.user) identity.learn(data.user.login);
  return keepOldest(octokit, request, { id: data.id, url: data.html_url, action: 'created' }, identity, logger);
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
async function keepOldest(
  octokit: GitHubClient,
  request: StickyCommentRequest,
  created: StickyCommentResult,
  identity: TokenIdentity,
  logger: Logger,
): Promise<StickyCommentResult> {
  const where = { owner: request.owner, repo: request.repo, issueNumber: request.issueNumber };
  const marker = commentMarker(request.key, request.scope);
  const comments = await listComments(octokit, where);
  const others = comments.filter((c) => c.body?.startsWith(marker) && c.id !== created.id);
  // The common case: nothing else with this marker, and no identity look-up needed.
  if (others.length === 0) return created;
  const ours = oursOldestFirst(others, await identity.loginOf(octokit, logger));
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

/** The comments the token's identity wrote, oldest first. */
function oursOldestFirst(comments: Comment[], login: string): Comment[] {
  return comments.filter((c) => c.user?.login === login).sort((a, b) => a.id - b.id);
}
