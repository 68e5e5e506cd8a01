import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { text } from '../../../src/action/report/markdown.js';
import { BUNDLE, runBundledAction, type ActionRun } from '../../helpers/run-action.js';
import { service, tempDir } from '../../helpers/services.js';
import { GITHUB_TOKEN, GitHubApiServer, READ_ONLY_TOKEN } from './api-server.js';
import { eventPath, githubEnv, markerOf, PR, REPOSITORY, seedPullRequests, type EventFixture } from './events.js';

const node24 = service('LOLPOP_TEST_NODE24');
const QUICKSTART = ['lolpop.yaml', 'quickstart_runner.py', 'train.csv', 'test.csv', 'dev.yaml'];

// The bundled action under Node 24, as the runner runs it (INPUT_*, GITHUB_* files and
// event payloads as GitHub sends them), against the local GitHub API on 127.0.0.1 —
// served under /api/v3 as GitHub Enterprise Server serves it, every request and
// response checked against GitHub's OpenAPI description — on the LocalOrchestrator.
describe.skipIf(!node24)('the bundled action on GitHub events: PR comment, summary, previews', () => {
  let api: GitHubApiServer;
  let project: string;

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    api = await GitHubApiServer.start();
    seedPullRequests(api);
    project = tempDir('gh-action');
    for (const f of QUICKSTART) copyFileSync(path.join('examples/quickstart', f), path.join(project, f));
  });
  afterAll(() => api?.close());
  afterEach(() => {
    expect(api.violations).toEqual([]);
  });

  let runId = 10_000;
  async function runAction(fixture: EventFixture, inputs: Record<string, string> = {}, env: Record<string, string> = {}): Promise<ActionRun> {
    return runBundledAction({
      node: node24!,
      cwd: project,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run', ...inputs },
      // Each workflow run its own id (the flow run's idempotency key depends on it).
      env: { ...githubEnv(fixture, api, String(runId++)), ...env },
      comments: () => api.comments.map((c) => c.body),
    });
  }

  const bodies = () => api.commentsOn(REPOSITORY, PR).map((c) => c.body);
  const notices = (log: string) => log.split('\n').filter((l) => /^::(notice|warning|error)/.test(l));

  it('pull_request opened: deploys the preview and creates the one sticky comment', async () => {
    const run = await runAction('pull_request.opened', { preview: 'true' }, { GITHUB_RUN_ID: '9001' });
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['deployment-name']).toBe('quickstart-pr-7');
    const [comment] = api.commentsOn(REPOSITORY, PR);
    expect(bodies()).toHaveLength(1);
    expect(run.outputs['comment-url']).toBe(`${api.urls.web}/${REPOSITORY}/pull/7#issuecomment-${comment!.id}`);
    expect(comment!.author.login).toBe('github-actions[bot]');
    expect(comment!.body.startsWith(`${markerOf('quickstart-pr-7')}\n### ✅ lolpop-deploy: quickstart-pr-7\n`)).toBe(true);
    expect(comment!.body).toContain(`Preview of pull request [#7](${api.urls.web}/${REPOSITORY}/pull/7)`);
    // The local orchestrator's report is on the runner's disk: a path (for upload-artifact), not a dead link.
    expect(run.outputs['flow-run-url']).toBeUndefined();
    expect(run.outputs['run-report']).toMatch(/\/\.lolpop-deploy\/runs\/[^/]+\/report\.html$/);
    expect(comment!.body).toContain(`- **run**: \`${run.outputs['flow-run-id']}\` (on the runner: \`${run.outputs['run-report']}\`)`);
    expect(comment!.body).toContain('- **state**: **COMPLETED**');
    expect(comment!.body).toContain(`[\`a1b2c3d\`](${api.urls.web}/${REPOSITORY}/commit/a1b2c3d4e5f60718293a4b5c6d7e8f9012345678)`);
    expect(comment!.body).toMatch(/\| run \| ✅ success \| [\d.]+ (ms|s) \|/);
    // The summary is the same report, plus where the comment is.
    expect(run.summary).toContain(comment!.body.split('\n').slice(1, 8).join('\n'));
    expect(run.summary).toContain(`> [PR comment](${run.outputs['comment-url']}) created on pull request #7.`);
    expect(notices(run.log)).toEqual([]);
  });

  it('a re-run of the same workflow updates that comment, and says which attempt', async () => {
    const run = await runAction('pull_request.opened', { preview: 'true' }, { GITHUB_RUN_ID: '9001', GITHUB_RUN_ATTEMPT: '2' });
    expect(run.status, run.log).toBe(0);
    expect(bodies()).toHaveLength(1);
    expect(bodies()[0]).toContain('(attempt 2)');
    expect(api.writes().slice(-1)).toEqual(['PATCH issues/update-comment 200']);
  });

  it('the next push (synchronize) updates it again, with the new commit', async () => {
    const run = await runAction('pull_request.synchronize', { preview: 'true' });
    expect(run.status, run.log).toBe(0);
    expect(bodies()).toHaveLength(1);
    expect(bodies()[0]).toContain('[`b2c3d4e`]');
    expect(api.writes().filter((w) => w.startsWith('POST'))).toEqual(['POST issues/create-comment 201']);
  });

  it('a second deployment in the same PR keeps its own comment', async () => {
    const run = await runAction('pull_request.synchronize', { preview: 'true', 'deployment-name': 'serving' });
    expect(run.status, run.log).toBe(0);
    expect(bodies().map((b) => b.split('\n')[0])).toEqual([markerOf('quickstart-pr-7'), markerOf('serving-pr-7')]);
  });

  it('pull_request closed: stops the preview, and the same comment says so', async () => {
    const run = await runAction('pull_request.closed', { preview: 'true' });
    expect(run.status, run.log).toBe(0);
    expect(bodies()).toHaveLength(2);
    const body = bodies()[0]!;
    expect(body.startsWith(`${markerOf('quickstart-pr-7')}\n### ⏹️ lolpop-deploy: quickstart-pr-7 stopped\n`)).toBe(true);
    expect(body).toContain('which was closed: what the preview deployed is stopped.');
    expect(body).toMatch(/\| stop \| ✅ success \|/);
    expect(run.summary).toContain('### ⏹️ lolpop-deploy: quickstart-pr-7 stopped');
  });

  it('push after the merge: deploys the production name and comments on the merged PR', async () => {
    const run = await runAction('push.merged', { preview: 'true' });
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['deployment-name']).toBe('quickstart');
    expect(bodies().map((b) => b.split('\n')[0])).toEqual([
      markerOf('quickstart-pr-7'),
      markerOf('serving-pr-7'),
      markerOf('quickstart'),
    ]);
    expect(bodies()[2]).toContain('### ✅ lolpop-deploy: quickstart\n');
    expect(run.outputs['comment-url']).toContain('/pull/7#issuecomment-');
  });

  it('push with no pull request: no comment, the summary all the same', async () => {
    const before = api.requests.length;
    const run = await runAction('push.no-pr', { preview: 'true' });
    expect(run.status, run.log).toBe(0);
    expect(api.requests.slice(before).map((r) => r.operationId)).toEqual(['repos/list-pull-requests-associated-with-commit']);
    expect(run.outputs['comment-url']).toBeUndefined();
    expect(run.summary).toContain('### ✅ lolpop-deploy: quickstart');
    expect(run.log).toContain('No PR comment: no pull request found for commit d4e5f60');
  });

  it('push to a feature branch with preview: the branch preview, never the production name', async () => {
    const run = await runAction('push.no-pr', { preview: 'true' }, { GITHUB_REF: 'refs/heads/Feature/X', GITHUB_REF_NAME: 'Feature/X' });
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['deployment-name']).toBe('quickstart-feature-x');
    expect(run.summary).toContain('### ✅ lolpop-deploy: quickstart-feature-x\n');
    expect(run.summary).toContain('Preview of branch `Feature/X`.');
    expect(run.log).toContain('Branch Feature/X is not the production branch (main): deploying its preview');
  });

  it('workflow_dispatch: runs with the inputs as parameters (run-kwargs from toJSON(inputs)), no GitHub call', async () => {
    const event = JSON.parse(readFileSync(eventPath('workflow_dispatch'), 'utf8')) as { inputs: Record<string, string> };
    const before = api.requests.length;
    // What `run-kwargs: ${{ toJSON(inputs) }}` expands to: toJSON pretty-prints.
    const runKwargs = JSON.stringify(event.inputs, null, 2);
    const run = await runAction('workflow_dispatch', { steps: 'run', 'run-kwargs': runKwargs });
    expect(run.status, run.log).toBe(0);
    const record = JSON.parse(readFileSync(path.join(project, '.lolpop-deploy/runs', run.outputs['flow-run-id']!, 'run.json'), 'utf8')) as { parameters: unknown };
    expect(record.parameters).toEqual({ n_estimators: '200', dry_run: 'false' });
    expect(api.requests.length).toBe(before);
    expect(run.log).toContain('No PR comment: no comment on workflow_dispatch event');
  });

  it('a fork’s pull request: no comment, a notice saying why, the summary, a green step', async () => {
    const before = api.requests.length;
    const run = await runAction('pull_request.opened.fork', { preview: 'true' });
    expect(run.status, run.log).toBe(0);
    const why = "No comment on pull request #8: it comes from a fork, and GitHub gives a fork's pull_request run a read-only token. The job summary has the report.";
    expect(notices(run.log)).toEqual([`::notice::${why}`]);
    // Notes are text: `#8` carries a zero-width joiner, so GitHub links no issue from it.
    expect(run.summary).toContain(`> ${text(why)}`);
    expect(run.summary).toContain('### ✅ lolpop-deploy: quickstart-pr-8');
    expect(api.requests.length).toBe(before);
  });

  it('a read-only token (403 on write): a notice, the summary, a green step', async () => {
    const count = bodies().length;
    const run = await runAction('pull_request.opened', { preview: 'true', 'deployment-name': 'readonly', 'github-token': READ_ONLY_TOKEN });
    expect(run.status, run.log).toBe(0);
    expect(notices(run.log)).toEqual([
      "::notice::Failed to comment on pull request #7: Resource not accessible by integration (403); give the workflow 'permissions: pull-requests: write' (a fork's pull_request run never has it). The job summary has the report.",
    ]);
    expect(api.writes().slice(-1)).toEqual(['POST issues/create-comment 403']);
    expect(run.summary).toContain('### ✅ lolpop-deploy: readonly-pr-7');
    expect(run.summary).toContain(`> ${text('Failed to comment on pull request #7: Resource not accessible by integration (403)')}`);
    expect(run.outputs['comment-url']).toBeUndefined();
    expect(bodies()).toHaveLength(count);
  });

  it('comment: always with a read-only token fails the step, after outputs and summary', async () => {
    const run = await runAction('pull_request.opened', { preview: 'true', 'deployment-name': 'readonly', 'github-token': READ_ONLY_TOKEN, comment: 'always' });
    expect(run.status).toBe(1);
    expect(notices(run.log)).toEqual([
      "::error::Failed to comment on pull request #7: Resource not accessible by integration (403); give the workflow 'permissions: pull-requests: write' (a fork's pull_request run never has it). The job summary has the report.",
    ]);
    expect(run.outputs['flow-run-state']).toBe('COMPLETED');
    expect(run.summary).toContain('### ✅ lolpop-deploy: readonly-pr-7');
  });

  it('the comment shows the work in flight: written when the first step starts and when the wait starts, then final', async () => {
    const before = api.requests.length;
    const run = await runAction('pull_request.opened', { 'deployment-name': 'progress', wait: 'true' });
    expect(run.status, run.log).toBe(0);
    const writes = api.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.operationId} ${r.status}`)).toEqual([
      'POST issues/create-comment 201',
      'PATCH issues/update-comment 200',
      'PATCH issues/update-comment 200',
    ]);
    const [first, beforeWait, final] = writes.map((r) => (r.body as { body: string }).body);
    expect(first!.startsWith(`${markerOf('progress')}\n### ⏳ lolpop-deploy: progress (deploy in progress)\n`)).toBe(true);
    expect(first).toContain('| deploy | ⏳ running |  |  |\n| run | 🕒 pending |  |  |\n| wait | 🕒 pending |  |  |');
    expect(beforeWait).toContain('### ⏳ lolpop-deploy: progress (wait in progress)');
    expect(beforeWait).toContain(`- **run**: \`${run.outputs['flow-run-id']}\``);
    expect(final).toMatch(/### ✅ lolpop-deploy: progress\n/);
    expect(final).toContain('- **final state**: **COMPLETED**');
  });

  // Every error the action can meet ends as one ::error:: line and a summary, never a stack.
  it.each([
    ['an event payload that is not JSON', {}, { GITHUB_EVENT_PATH: 'BROKEN' }, /^::error::The event payload .*broken-event\.json \(GITHUB_EVENT_PATH\) is not valid JSON: /],
    ['a directory given as config', { config: '.lolpop-deploy' }, {}, /^::error::Config file \.lolpop-deploy is a directory; give the file in it, e\.g\. \.lolpop-deploy\/lolpop\.yaml$/],
    ['an unwritable GITHUB_OUTPUT', { comment: 'never' }, { GITHUB_OUTPUT: '/proc/lolpop-deploy/output' }, /^::error::Failed to write the step outputs \(GITHUB_OUTPUT\): /],
  ])('%s: one ::error:: line and a summary, no stack', async (_name, inputs: Record<string, string>, env: Record<string, string>, error) => {
    if (env.GITHUB_EVENT_PATH === 'BROKEN') {
      env.GITHUB_EVENT_PATH = path.join(tempDir('event'), 'broken-event.json');
      writeFileSync(env.GITHUB_EVENT_PATH, '{"action": "opened", ');
    }
    const run = await runAction('pull_request.opened', inputs, env);
    expect(run.status).toBe(1);
    const errors = run.log.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(error);
    expect(run.log).not.toMatch(/^\s+at /m);
    expect(run.summary).toContain('### ❌ lolpop-deploy');
  });
});
