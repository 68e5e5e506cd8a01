import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../../src/action/github/client.js';
import { commentMarker, workflowScope } from '../../src/action/github/comment-marker.js';
import { commentOnPullRequest } from '../../src/action/github/pr-comment.js';
import { readCiContext } from '../../src/ci-context.js';
import { MemoryLogger } from '../../src/logger.js';
import { GITHUB_TOKEN, GitHubApiServer } from '../action/github/api-server.js';
import { githubEnv, PR, REPOSITORY, seedPullRequests } from '../action/github/events.js';
import { GITHUB_ACTIONS_BOT, type Account } from '../action/github/objects.js';

/** Another app on the repository (a linter, a coverage bot): a Bot too. */
const OTHER_BOT: Account = { login: 'coverage-report[bot]', id: 49699333, type: 'Bot' };
/** A GitHub App's installation token used as github-token: it writes as its own bot. */
const APP_TOKEN = 'ghs_apptoken0000000000000000000000000000';
const APP_BOT: Account = { login: 'acme-deployer[bot]', id: 51234567, type: 'Bot' };
const KEY = 'quickstart-pr-7';

// Who owns the sticky comment, against the local GitHub API (every request and answer
// checked against GitHub's OpenAPI description), with the real Octokit. An attacker
// here is anything else that can comment on the PR: another app's bot, another
// workflow of the repository. It can read our comment and copy its marker line.
describe('the sticky comment is ours only when the token’s identity wrote it with this workflow’s marker', { timeout: 60_000 }, () => {
  let api: GitHubApiServer;
  beforeAll(async () => {
    api = await GitHubApiServer.start();
    api.tokens.set(APP_TOKEN, { account: APP_BOT, installation: true });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.comments.length = 0;
    api.requests.length = 0;
    api.pulls.clear();
    seedPullRequests(api);
  });
  afterEach(() => {
    expect(api.violations).toEqual([]);
  });

  /** One comment write as the action makes it, from the workflow file `workflow`. */
  async function write(body: string, options: { token?: string; workflow?: string } = {}) {
    const logger = new MemoryLogger();
    const env = { ...githubEnv('pull_request.opened', api), GITHUB_WORKFLOW_REF: `${REPOSITORY}/.github/workflows/${options.workflow ?? 'deploy.yml'}@refs/pull/7/merge` };
    const ci = readCiContext(env, (file) => readFileSync(file, 'utf8'));
    return commentOnPullRequest(() => createGitHubClient(options.token ?? GITHUB_TOKEN, ci.apiUrl, logger), { mode: 'auto', ci, key: KEY, body }, logger);
  }

  /** The marker line our first write put on the PR: what an attacker copies. */
  function markerLine(): string {
    const [ours] = api.commentsOn(REPOSITORY, PR);
    return ours!.body.split('\n')[0]!;
  }

  it('another bot’s comment carrying our marker, posted after ours, is not deleted as a duplicate', async () => {
    await write('first report');
    const theirs = api.addComment(REPOSITORY, PR, `${markerLine()}\ncoverage: 91%`, OTHER_BOT);
    const outcome = await write('second report');
    expect(outcome).toMatchObject({ status: 'written', action: 'updated' });
    expect(api.comments.find((c) => c.id === theirs.id)?.body).toBe(`${markerLine()}\ncoverage: 91%`);
    expect(api.commentsOn(REPOSITORY, PR).map((c) => [c.author.login, c.body.split('\n')[1]])).toEqual([
      [GITHUB_ACTIONS_BOT.login, 'second report'],
      [OTHER_BOT.login, 'coverage: 91%'],
    ]);
    expect(api.writes()).not.toContain('DELETE issues/delete-comment 204');
  });

  it('another bot’s comment carrying our marker, and no comment of ours, is not overwritten: ours is created beside it', async () => {
    await write('first report');
    const marker = markerLine();
    // Ours was deleted by hand; the other bot's, older now, carries the marker.
    api.comments.length = 0;
    const theirs = api.addComment(REPOSITORY, PR, `${marker}\ncoverage: 91%`, OTHER_BOT);
    const outcome = await write('second report');
    expect(outcome).toMatchObject({ status: 'written', action: 'created' });
    expect(api.comments.find((c) => c.id === theirs.id)?.body).toBe(`${marker}\ncoverage: 91%`);
    expect(api.commentsOn(REPOSITORY, PR).map((c) => c.author.login)).toEqual([OTHER_BOT.login, GITHUB_ACTIONS_BOT.login]);
  });

  it('a comment another workflow wrote for the same deployment name, with the same token identity, is not ours', async () => {
    await write('from the nightly workflow', { workflow: 'nightly.yml' });
    const theirs = api.commentsOn(REPOSITORY, PR)[0]!;
    const outcome = await write('from the deploy workflow', { workflow: 'deploy.yml' });
    expect(outcome).toMatchObject({ status: 'written', action: 'created' });
    expect(api.comments.find((c) => c.id === theirs.id)?.body).toMatch(/\nfrom the nightly workflow$/);
    expect(api.commentsOn(REPOSITORY, PR).map((c) => c.body.split('\n')[1])).toEqual(['from the nightly workflow', 'from the deploy workflow']);
    // Each workflow goes on updating its own.
    await write('nightly again', { workflow: 'nightly.yml' });
    expect(api.commentsOn(REPOSITORY, PR).map((c) => c.body.split('\n')[1])).toEqual(['nightly again', 'from the deploy workflow']);
  });

  it('the marker is the workflow file’s, whatever ref it runs on; another file’s differs', () => {
    const markerFrom = (workflowRef: string) => commentMarker(KEY, workflowScope(readCiContext({ GITHUB_REPOSITORY: REPOSITORY, GITHUB_WORKFLOW_REF: workflowRef })));
    const file = `${REPOSITORY}/.github/workflows/deploy.yml`;
    const refs = ['refs/pull/7/merge', 'refs/heads/main', 'refs/heads/fix@home', 'refs/tags/v1'].map((ref) => markerFrom(`${file}@${ref}`));
    expect(new Set(refs).size).toBe(1);
    expect(markerFrom(`${REPOSITORY}/.github/workflows/nightly.yml@refs/heads/main`)).not.toBe(refs[0]);
    expect(commentMarker(KEY, workflowScope(readCiContext({ GITHUB_REPOSITORY: 'acme/other', GITHUB_WORKFLOW_REF: `acme/other/.github/workflows/deploy.yml@refs/heads/main` })))).not.toBe(refs[0]);
  });

  it('with a GitHub App’s token, the app’s own comment is updated and github-actions[bot]’s copy of the marker is left alone', async () => {
    await write('by the app', { token: APP_TOKEN });
    const marker = markerLine();
    const mine = api.commentsOn(REPOSITORY, PR)[0]!;
    // An older comment by the workflow token's bot, carrying the same marker.
    api.comments.length = 0;
    const decoy = api.addComment(REPOSITORY, PR, `${marker}\nby github-actions`, GITHUB_ACTIONS_BOT);
    api.comments.push(mine);
    const outcome = await write('by the app, again', { token: APP_TOKEN });
    expect(outcome).toMatchObject({ status: 'written', action: 'updated' });
    expect(api.comments.find((c) => c.id === decoy.id)?.body).toBe(`${marker}\nby github-actions`);
    expect(api.comments.find((c) => c.id === mine.id)?.body).toBe(`${marker}\nby the app, again`);
    // GET /user refuses an installation token; GraphQL's viewer names its bot.
    expect(api.requests.map((r) => `${r.operationId} ${r.status}`)).toContain('graphql 200');
  });
});
