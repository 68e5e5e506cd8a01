import { z } from 'zod';
import { UserError } from '../../errors.js';
import type { GitHubClient } from './client.js';

// Only the fields this action reads: GitHub's other fields pass through untouched.
const Author = z.object({ login: z.string(), type: z.string() });
export const Comment = z.object({ id: z.number().int(), body: z.string().nullish(), user: Author.nullable(), html_url: z.string() });
export type Comment = z.infer<typeof Comment>;
const WrittenComment = z.object({ id: z.number().int(), html_url: z.string(), user: Author.nullable() });
const AuthenticatedUser = z.object({ login: z.string() });
const Viewer = z.object({ viewer: z.object({ login: z.string() }) });
const CommitPullRequest = z.object({
  number: z.number().int(),
  state: z.string(),
  merged_at: z.string().nullish(),
  merge_commit_sha: z.string().nullish(),
});
export type CommitPullRequest = z.infer<typeof CommitPullRequest>;

/** GitHub answered 2xx with something this action cannot use (a proxy's page, a broken body). */
export class GitHubAnswerError extends UserError {
  override name = 'GitHubAnswerError';
}

/** The answer, checked against the shape used before anything reads it. */
export function checked<S extends z.ZodType>(schema: S, data: unknown, label: string): z.output<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  const what = typeof data === 'string' && /^\s*</.test(data) ? 'HTML, not JSON; is GITHUB_API_URL the API?' : `an unexpected body (${describe(parsed.error)})`;
  throw new GitHubAnswerError(`GitHub answered ${label} with ${what}: ${snippet(text ?? 'nothing')}`);
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 80)}…` : line || 'empty';
}

/** The most pages read (100 items each): a pull request has far fewer comments. */
const MAX_PAGES = 50;

/** Every comment on an issue or pull request, page by page (each page checked). */
export async function listComments(octokit: GitHubClient, where: { owner: string; repo: string; issueNumber: number }): Promise<Comment[]> {
  const label = `GET /repos/${where.owner}/${where.repo}/issues/${where.issueNumber}/comments`;
  const all: Comment[] = [];
  // Page numbers, not the Link header's URLs: those name GitHub's host, which a proxy in between would lose.
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const res = await octokit.rest.issues.listComments({ owner: where.owner, repo: where.repo, issue_number: where.issueNumber, per_page: 100, page });
    all.push(...checked(z.array(Comment), res.data, label));
    if (!/rel="next"/.test(res.headers.link ?? '')) return all;
  }
  throw new GitHubAnswerError(`${label}: more than ${MAX_PAGES * 100} comments; not read further`);
}

export async function createComment(octokit: GitHubClient, where: { owner: string; repo: string; issueNumber: number }, body: string) {
  const res = await octokit.rest.issues.createComment({ owner: where.owner, repo: where.repo, issue_number: where.issueNumber, body });
  return checked(WrittenComment, res.data, `POST /repos/${where.owner}/${where.repo}/issues/${where.issueNumber}/comments`);
}

export async function updateComment(octokit: GitHubClient, where: { owner: string; repo: string }, id: number, body: string) {
  const res = await octokit.rest.issues.updateComment({ owner: where.owner, repo: where.repo, comment_id: id, body });
  return checked(WrittenComment, res.data, `PATCH /repos/${where.owner}/${where.repo}/issues/comments/${id}`);
}

/** Deletes a comment; one already gone (another job removed it) is fine. */
export async function deleteComment(octokit: GitHubClient, where: { owner: string; repo: string }, id: number): Promise<void> {
  try {
    await octokit.rest.issues.deleteComment({ owner: where.owner, repo: where.repo, comment_id: id });
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
}

export async function authenticatedLogin(octokit: GitHubClient): Promise<string> {
  const res = await octokit.rest.users.getAuthenticated();
  return checked(AuthenticatedUser, res.data, 'GET /user').login;
}

/** The token's login as GraphQL's viewer: the only call that names an installation token's bot (GET /user and GET /app refuse it). */
export async function viewerLogin(octokit: GitHubClient): Promise<string> {
  const data: unknown = await octokit.graphql('query { viewer { login } }');
  return checked(Viewer, data, 'POST /graphql (viewer)').viewer.login;
}

export async function pullRequestsOfCommit(octokit: GitHubClient, where: { owner: string; repo: string }, sha: string): Promise<CommitPullRequest[]> {
  const res = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner: where.owner, repo: where.repo, commit_sha: sha, per_page: 100 });
  return checked(z.array(CommitPullRequest), res.data, `GET /repos/${where.owner}/${where.repo}/commits/${sha}/pulls`);
}

/**
 * One line for a failed GitHub call: the status and the request when GitHub
 * answered, what happened to the request when it did not (dropped, hung).
 */
export function describeGitHubError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof UserError) return error.message;
  const e = error as Error & { status?: number; request?: { method?: string; url?: string }; response?: unknown };
  const label = e.request?.method && e.request.url ? `${e.request.method} ${new URL(e.request.url).pathname}` : undefined;
  // Octokit appends the documentation URL to GitHub's message.
  const message = (error.message.split('\n')[0] ?? '').replace(/ - https:\/\/docs\.github\.com\S*$/, '');
  if (!e.response) return label && !message.includes(label) ? `${message} (${label})` : message;
  return `GitHub answered ${e.status}${label ? ` to ${label}` : ''}: ${message}`;
}
