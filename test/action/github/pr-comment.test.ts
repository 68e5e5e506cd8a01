import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../../../src/action/github/client.js';
import { commentOnPullRequest, type CommentMode } from '../../../src/action/github/pr-comment.js';
import { MemoryLogger } from '../../../src/logger.js';
import { GITHUB_TOKEN, GitHubApiServer, OCTOCAT, READ_ONLY_TOKEN, USER_TOKEN } from './api-server.js';
import { ciFor, markerOf, PR, REPOSITORY, seedPullRequests, type EventFixture } from './events.js';
import { GITHUB_ACTIONS_BOT } from './objects.js';

// The comment logic against the local GitHub API (checked against GitHub's OpenAPI
// description), with the real Octokit, retry and throttling plugins.
// Octokit's throttling spaces writes a second apart, as it should on github.com.
describe('the sticky PR comment', { timeout: 30_000 }, () => {
  let api: GitHubApiServer;
  beforeAll(async () => {
    api = await GitHubApiServer.start();
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.comments.length = 0;
    api.requests.length = 0;
    api.faults.length = 0;
    api.pulls.clear();
    seedPullRequests(api);
  });
  afterEach(() => {
    expect(api.violations).toEqual([]);
  });

  async function comment(fixture: EventFixture, body: string, options: { key?: string; mode?: CommentMode; token?: string } = {}) {
    const logger = new MemoryLogger();
    // GITHUB_API_URL of the event's environment: the server's /api/v3, as on GitHub Enterprise Server.
    const ci = ciFor(fixture, api);
    const outcome = await commentOnPullRequest(
      () => createGitHubClient(options.token ?? GITHUB_TOKEN, ci.apiUrl, logger),
      { mode: options.mode ?? 'auto', ci, key: options.key ?? 'quickstart-pr-7', body },
      logger,
    );
    return { outcome, logger };
  }

  it('is created on the first run, with the marker, by the token’s identity', async () => {
    const { outcome } = await comment('pull_request.opened', 'first');
    const comments = api.commentsOn(REPOSITORY, PR);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatchObject({ body: `${markerOf('quickstart-pr-7')}\nfirst`, author: GITHUB_ACTIONS_BOT });
    // The key for a reader of the source, and the hash of this workflow and key.
    expect(comments[0]!.body).toMatch(/^<!-- lolpop-deploy:quickstart-pr-7 [0-9a-f]{16} -->\nfirst$/);
    expect(outcome).toEqual({ status: 'written', action: 'created', pullRequest: PR, url: `${api.urls.web}/${REPOSITORY}/pull/7#issuecomment-${comments[0]!.id}` });
    // A new comment needs no identity lookup: list, create, and list again (for a job that raced us).
    expect(api.requests.map((r) => r.operationId)).toEqual(['issues/list-comments', 'issues/create-comment', 'issues/list-comments']);
  });

  it("Octokit's retry plugin rides out a 502 from GitHub: the comment is written once", async () => {
    api.faults.push({ operationId: 'issues/create-comment', status: 502, body: { message: 'Server Error' } });
    const { outcome } = await comment('pull_request.opened', 'after a 502');
    expect(outcome).toMatchObject({ status: 'written', action: 'created' });
    expect(api.commentsOn(REPOSITORY, PR)).toHaveLength(1);
    expect(api.requests.filter((r) => r.operationId === 'issues/create-comment').map((r) => r.status)).toEqual([502, 201]);
  });

  it("Octokit's throttling plugin waits out a secondary rate limit (403 with Retry-After), says so, and writes the comment", async () => {
    api.faults.push({
      operationId: 'issues/list-comments',
      status: 403,
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest' },
      headers: { 'retry-after': '1' },
    });
    const started = Date.now();
    const { outcome, logger } = await comment('pull_request.opened', 'after a rate limit');
    expect(outcome).toMatchObject({ status: 'written' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(logger.lines.some((l) => l.startsWith("warning: GitHub's secondary rate limit was hit by GET "))).toBe(true);
    expect(api.requests.filter((r) => r.operationId === 'issues/list-comments').map((r) => r.status).slice(0, 2)).toEqual([403, 200]);
  });

  it('two jobs racing on one PR leave exactly one comment: the later creator removes its duplicate', async () => {
    const [a, b] = await Promise.all([comment('pull_request.opened', 'job A'), comment('pull_request.synchronize', 'job B')]);
    const comments = api.commentsOn(REPOSITORY, PR);
    expect(comments).toHaveLength(1);
    // Both wrote; one created, the other found the race and wrote into the oldest.
    expect([a.outcome, b.outcome].map((o) => (o.status === 'written' ? o.action : o.status)).sort()).toEqual(['created', 'updated']);
    const creates = api.requests.filter((r) => r.operationId === 'issues/create-comment').length;
    const deletes = api.requests.filter((r) => r.operationId === 'issues/delete-comment').length;
    // Both listed before either created (Octokit spaces writes): both created, one was removed.
    expect([creates, deletes]).toEqual([2, 1]);
  });

  it('is updated in place by a re-run and by the next push: never a second copy', async () => {
    const first = await comment('pull_request.opened', 'first');
    const rerun = await comment('pull_request.opened', 'first, re-run');
    const push = await comment('pull_request.synchronize', 'second push');
    expect(api.commentsOn(REPOSITORY, PR).map((c) => c.body)).toEqual([`${markerOf('quickstart-pr-7')}\nsecond push`]);
    expect(rerun.outcome).toMatchObject({ status: 'written', action: 'updated' });
    expect(push.outcome).toMatchObject({ status: 'written', action: 'updated' });
    expect(first.outcome.status === 'written' && push.outcome.status === 'written' && push.outcome.url === first.outcome.url).toBe(true);
    expect(api.writes()).toEqual(['POST issues/create-comment 201', 'PATCH issues/update-comment 200', 'PATCH issues/update-comment 200']);
  });

  it('keeps one comment per deployment: two deployments in one PR, two comments', async () => {
    await comment('pull_request.opened', 'training', { key: 'train-pr-7' });
    await comment('pull_request.opened', 'serving', { key: 'serve-pr-7' });
    await comment('pull_request.synchronize', 'training again', { key: 'train-pr-7' });
    expect(api.commentsOn(REPOSITORY, PR).map((c) => c.body)).toEqual([
      `${markerOf('train-pr-7')}\ntraining again`,
      `${markerOf('serve-pr-7')}\nserving`,
    ]);
  });

  it('finds its comment among 250 (paginated), and never takes over a person’s comment quoting the marker', async () => {
    const marker = markerOf('quickstart-pr-7');
    for (let i = 0; i < 150; i++) api.addComment(REPOSITORY, PR, `comment ${i}`, OCTOCAT);
    api.addComment(REPOSITORY, PR, `quoting the bot:\n> ${marker}`, OCTOCAT);
    const ours = api.addComment(REPOSITORY, PR, `${marker}\nold report`, GITHUB_ACTIONS_BOT);
    for (let i = 0; i < 98; i++) api.addComment(REPOSITORY, PR, `later comment ${i}`, OCTOCAT);
    expect(api.commentsOn(REPOSITORY, PR)).toHaveLength(250);

    const { outcome } = await comment('pull_request.synchronize', 'new report');
    expect(outcome).toMatchObject({ status: 'written', action: 'updated' });
    expect(api.commentsOn(REPOSITORY, PR)).toHaveLength(250);
    expect(api.comments.find((c) => c.id === ours.id)!.body).toBe(`${marker}\nnew report`);
    expect(api.comments.find((c) => c.body.startsWith('quoting'))!.body).toBe(`quoting the bot:\n> ${marker}`);
    const pages = api.requests.filter((r) => r.operationId === 'issues/list-comments').map((r) => new URL(r.path, 'http://x').searchParams.get('page') ?? '1');
    expect(pages).toEqual(['1', '2', '3']);
  });

  it('with a user’s token, matches the comment by that user’s login (GET /user)', async () => {
    const marker = markerOf('quickstart-pr-7');
    api.addComment(REPOSITORY, PR, `${marker}\nby a bot, not us`, GITHUB_ACTIONS_BOT);
    const mine = api.addComment(REPOSITORY, PR, `${marker}\nby octocat`, OCTOCAT);
    await comment('pull_request.opened', 'updated', { token: USER_TOKEN });
    expect(api.comments.find((c) => c.id === mine.id)!.body).toBe(`${marker}\nupdated`);
    expect(api.commentsOn(REPOSITORY, PR)).toHaveLength(2);
  });

  it('on a push after a merge, comments on the merged pull request', async () => {
    const { outcome } = await comment('push.merged', 'production', { key: 'quickstart' });
    expect(outcome).toMatchObject({ status: 'written', action: 'created', pullRequest: 7 });
    expect(api.requests[0]!.operationId).toBe('repos/list-pull-requests-associated-with-commit');
  });

  it('on a push with no pull request, writes nothing', async () => {
    const { outcome } = await comment('push.no-pr', 'production', { key: 'quickstart' });
    expect(outcome).toEqual({ status: 'none', reason: 'no pull request found for commit d4e5f60' });
    expect(api.writes()).toEqual([]);
  });

  it('on workflow_dispatch, comments only with comment: always (on the commit’s pull request)', async () => {
    expect((await comment('workflow_dispatch', 'manual')).outcome).toMatchObject({ status: 'none' });
    expect(api.requests).toEqual([]);
    expect((await comment('workflow_dispatch', 'manual', { mode: 'always' })).outcome).toMatchObject({ status: 'written', pullRequest: 7 });
  });

  it('with comment: never, makes no call at all', async () => {
    expect((await comment('pull_request.opened', 'x', { mode: 'never' })).outcome).toEqual({ status: 'none', reason: 'comment: never' });
    expect(api.requests).toEqual([]);
  });

  it('on a fork’s pull request, skips with the reason and makes no call', async () => {
    const { outcome } = await comment('pull_request.opened.fork', 'x');
    expect(outcome).toEqual({
      status: 'skipped',
      reason: 'No comment on pull request #8: it comes from a fork, and GitHub gives a fork’s pull_request run a read-only token. The job summary has the report.'.replace('’', "'"),
    });
    expect(api.requests).toEqual([]);
  });

  it('with a read-only token, skips on the 403 and says what permission is missing', async () => {
    const { outcome } = await comment('pull_request.opened', 'x', { token: READ_ONLY_TOKEN });
    expect(outcome).toEqual({
      status: 'skipped',
      reason:
        "Failed to comment on pull request #7: Resource not accessible by integration (403); give the workflow 'permissions: pull-requests: write' (a fork's pull_request run never has it). The job summary has the report.",
    });
    expect(api.writes()).toEqual(['POST issues/create-comment 403']);
  });
});
