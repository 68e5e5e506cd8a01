import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommentWriter } from '../../src/action/comment.js';
import { CoreLogger } from '../../src/action/core-logger.js';
import type { ActionSettings } from '../../src/action/inputs.js';
import { describeError } from '../../src/errors.js';
import { GITHUB_TOKEN, GitHubApiServer } from '../action/github/api-server.js';
import { ciFor } from '../action/github/events.js';

/** Short limits, so that a hang costs a second and a half: 0.5 s per try, 1.5 s per write. */
const LIMITS = { tryTimeoutMs: 500, budgetMs: 1500 };

const settings = { comment: 'auto', githubToken: GITHUB_TOKEN } as ActionSettings;

// A GitHub API that accepts connections and never answers, as a stand-in on 127.0.0.1.
// The step writes its progress comment, then its final one (src/action/comment.ts, as
// main.ts drives it): the first write waits its budget; the second must not wait again.
describe('a GitHub API that never answers', { timeout: 10_000 }, () => {
  let hung: Server;
  let apiUrl: string;
  let api: GitHubApiServer;
  beforeAll(async () => {
    api = await GitHubApiServer.start();
    hung = createServer(() => undefined);
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/api/v3`;
  });
  afterAll(async () => {
    hung.closeAllConnections();
    await new Promise((resolve) => hung.close(resolve));
    await api.close();
  });

  it('costs the step one budget, not one per write: the final write fails at once with the same line', async () => {
    const ci = { ...ciFor('pull_request.opened', api), apiUrl };
    const writer = new CommentWriter(settings, ci, new CoreLogger(), { limits: LIMITS, retryBaseMs: 10 });
    const started = Date.now();
    const progress = await writer.progress('quickstart-pr-7', '⏳', 'before deploy').then(
      () => undefined,
      (error: unknown) => describeError(error),
    );
    const progressMs = Date.now() - started;
    const notes: string[] = [];
    const failure = await writer.final('quickstart-pr-7', '✅', notes);
    const finalMs = Date.now() - started - progressMs;

    // Each try hung and was retried until the write's budget was spent: the last try's line, cut by the budget or refused by it.
    const list = 'GET /api/v3/repos/acme/quickstart/issues/7/comments';
    expect([
      `Failed to comment on pull request #7: gave up on ${list}: GitHub took more than the 1.5 s one comment may take`,
      ...['0.5', '0.4', '0.3', '0.2', '0.1'].map((s) => `Failed to comment on pull request #7: the GitHub API hung: ${list} did not answer in ${s} s`),
    ]).toContain(progress);
    expect(progressMs).toBeGreaterThanOrEqual(LIMITS.budgetMs - 100);
    expect(progressMs).toBeLessThan(LIMITS.budgetMs + 1000);
    // comment: auto never fails the deployment for its comment: the line is a note (and a warning).
    expect(failure).toBeUndefined();
    expect(notes).toEqual([`${progress}; GitHub is not waited for again in this step`]);
    expect(finalMs).toBeLessThan(100);
    console.log(`a GitHub that never answers: progress write ${progressMs} ms (budget ${LIMITS.budgetMs} ms), final write ${finalMs} ms`);
  });
});
