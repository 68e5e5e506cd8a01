import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, runBundledAction, type ActionRun } from '../helpers/run-action.js';
import { service, tempDir } from '../helpers/services.js';
import { GITHUB_TOKEN, GitHubApiServer } from '../action/github/api-server.js';
import { eventPath, githubEnv, PR, REPOSITORY, seedPullRequests } from '../action/github/events.js';
import { GITHUB_ACTIONS_BOT, type Account } from '../action/github/objects.js';

const node24 = service('LOLPOP_TEST_NODE24');
const QUICKSTART = ['lolpop.yaml', 'quickstart_runner.py', 'train.csv', 'test.csv', 'dev.yaml'];
const OTHER_BOT: Account = { login: 'coverage-report[bot]', id: 49699333, type: 'Bot' };

// The GitHub side of issue 19, through the bundled action under Node 24 as the runner
// runs it, against the local GitHub API (every request and answer checked against
// GitHub's OpenAPI description) or a GitHub that never answers, on the LocalOrchestrator.
describe.skipIf(!node24)('the bundled action: sticky comment ownership, a hung GitHub, hostile payloads', { timeout: 240_000 }, () => {
  let api: GitHubApiServer;
  let project: string;
  let runId = 20_000;

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    api = await GitHubApiServer.start();
    seedPullRequests(api);
    project = tempDir('gh-security');
    for (const f of QUICKSTART) copyFileSync(path.join('examples/quickstart', f), path.join(project, f));
  });
  afterAll(() => api?.close());
  afterEach(() => {
    expect(api.violations).toEqual([]);
    api.comments.length = 0;
  });

  function runAction(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
    return runBundledAction({
      node: node24!,
      cwd: project,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run', ...inputs },
      env: { ...githubEnv('pull_request.opened', api, String(runId++)), ...env },
      comments: () => api.comments.map((c) => c.body),
    });
  }
  const errors = (log: string) => log.split('\n').filter((l) => l.startsWith('::error'));

  it('another bot’s comment carrying our marker is neither updated nor deleted', async () => {
    expect((await runAction({ 'deployment-name': 'owned' })).status).toBe(0);
    const marker = api.commentsOn(REPOSITORY, PR)[0]!.body.split('\n')[0]!;
    const theirs = api.addComment(REPOSITORY, PR, `${marker}\ncoverage: 91%`, OTHER_BOT);
    const run = await runAction({ 'deployment-name': 'owned' });
    expect(run.status, run.log).toBe(0);
    expect(api.comments.find((c) => c.id === theirs.id)?.body).toBe(`${marker}\ncoverage: 91%`);
    expect(api.commentsOn(REPOSITORY, PR).map((c) => c.author.login)).toEqual([GITHUB_ACTIONS_BOT.login, OTHER_BOT.login]);
    expect(api.writes().filter((w) => w.startsWith('DELETE'))).toEqual([]);
  });

  it('a comment another workflow wrote for the same deployment name is not ours', async () => {
    const workflowRef = (file: string) => ({ GITHUB_WORKFLOW_REF: `${REPOSITORY}/.github/workflows/${file}@refs/pull/7/merge` });
    expect((await runAction({ 'deployment-name': 'shared' }, workflowRef('nightly.yml'))).status).toBe(0);
    const nightly = api.commentsOn(REPOSITORY, PR)[0]!;
    const nightlyBody = nightly.body;
    const run = await runAction({ 'deployment-name': 'shared' }, workflowRef('deploy.yml'));
    expect(run.status, run.log).toBe(0);
    expect(api.comments.find((c) => c.id === nightly.id)?.body).toBe(nightlyBody);
    expect(api.commentsOn(REPOSITORY, PR)).toHaveLength(2);
    expect(run.outputs['comment-url']).not.toContain(`#issuecomment-${nightly.id}`);
  });

  it('a payload with a numeric pull_request.head.sha: one ::error:: line naming the field, and the summary', async () => {
    const event = JSON.parse(readFileSync(eventPath('pull_request.opened'), 'utf8')) as { pull_request: { head: { sha: unknown } } };
    event.pull_request.head.sha = 123;
    const file = path.join(tempDir('event'), 'event.json');
    const before = api.requests.length;
    writeFileSync(file, JSON.stringify(event));
    const run = await runAction({}, { GITHUB_EVENT_PATH: file });
    expect(run.status).toBe(1);
    expect(errors(run.log)).toEqual([`::error::The event payload ${file} (GITHUB_EVENT_PATH) has pull_request.head.sha = 123: expected string, received number`]);
    expect(run.log).not.toMatch(/^\s+at /m);
    expect(run.summary).toContain('### ❌ lolpop-deploy');
    // Refused before anything ran: no comment either.
    expect(api.requests.slice(before)).toEqual([]);
  });

  describe('a GitHub API that never answers', () => {
    let hung: Server;
    beforeAll(async () => {
      hung = createServer(() => undefined);
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      hung.closeAllConnections();
      await new Promise((resolve) => hung.close(resolve));
    });

    // The limits are GitHub's own (20 s a try, 60 s a write): the progress write spends one
    // budget, the final write none. Before, each waited its own: about 2 × 60 s.
    it('costs the step one write budget (60 s), not one per write; the step stays green', async () => {
      const apiUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/api/v3`;
      const started = Date.now();
      const run = await runAction({ 'deployment-name': 'hung' }, { GITHUB_API_URL: apiUrl });
      const seconds = (Date.now() - started) / 1000;
      console.log(`a GitHub that never answers: the step took ${seconds.toFixed(1)} s`);
      expect(run.status, run.log).toBe(0);
      expect(seconds).toBeGreaterThan(55);
      expect(seconds).toBeLessThan(110);
      const warnings = run.log.split('\n').filter((l) => l.startsWith('::warning::'));
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(/^::warning::Could not report progress before deploy: Failed to comment on pull request #7: (the GitHub API hung: |gave up on )/);
      expect(warnings[1]).toBe(`::warning::${warnings[0]!.replace(/^::warning::Could not report progress before deploy: /, '')}; GitHub is not waited for again in this step`);
      expect(run.summary).toContain('GitHub is not waited for again in this step');
    });
  });
});
