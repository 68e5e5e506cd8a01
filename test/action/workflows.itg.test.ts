import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefectApi } from '../helpers/pipeline.js';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { FLOWS_PY, gitRepository, service, tempDir } from '../helpers/services.js';
import { GITHUB_TOKEN, GitHubApiServer } from './github/api-server.js';

const node24 = service('LOLPOP_TEST_NODE24');
const apiUrl = service('LOLPOP_TEST_PREFECT_URL');
const pool = service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process';

/** One team's workflow: a flow on the real process pool (the worker clones the repository). */
const workflow = (name: string, flow: 'hello' | 'boom') => `
decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  deployment:
    name: ${name}
    deploy: {work_pool: ${pool}, flow_entrypoint: "flows/flows.py:${flow}"}
    run: {wait: true, wait_timeout: 150s, poll_interval: 1s}
`;

// Several workflows in one step (a monorepo of teams, one lolpop config each), through
// the bundled action under Node 24, against the real Prefect 3 server and worker and the
// local GitHub API: deployments and runs are checked on the server, the comment on the API.
describe.skipIf(!node24 || !apiUrl)('several config files in one step', () => {
  let api: GitHubApiServer;
  let root: string;
  let sha: string;
  const repository = `acme/teams-${randomUUID().slice(0, 8)}`;
  const uid = randomUUID().slice(0, 6);

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    api = await GitHubApiServer.start();
    root = tempDir('gh');
    sha = gitRepository(root, repository, { 'flows/flows.py': FLOWS_PY });
  });
  afterAll(() => api?.close());

  /** A checkout with teams/<team>/lolpop.yaml for each [team, flow]. */
  function project(teams: Array<[string, 'hello' | 'boom']>): string {
    const dir = tempDir('teams');
    for (const [team, flow] of teams) {
      mkdirSync(path.join(dir, 'teams', team), { recursive: true });
      writeFileSync(path.join(dir, 'teams', team, 'lolpop.yaml'), workflow(`${team}-${uid}`, flow));
    }
    return dir;
  }

  function run(dir: string, inputs: Record<string, string>) {
    const eventPath = path.join(dir, 'event.json');
    const repo = { full_name: repository, fork: false, default_branch: 'main' };
    writeFileSync(eventPath, JSON.stringify({ action: 'synchronize', number: 7, pull_request: { number: 7, head: { sha, repo }, base: { repo } }, repository: repo }));
    return runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run', config: 'teams/*/lolpop.yaml', ...inputs },
      env: {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_SHA: sha,
        GITHUB_REF: 'refs/pull/7/merge',
        GITHUB_REPOSITORY: repository,
        // The process worker clones from here; the comment goes to the local GitHub API.
        GITHUB_SERVER_URL: `file://${root}`,
        GITHUB_API_URL: api.urls.api,
        GITHUB_RUN_ID: randomUUID(),
        GITHUB_RUN_ATTEMPT: '1',
        PREFECT_API_URL: apiUrl!,
      },
      comments: () => api.comments.map((c) => c.body),
    });
  }

  it('3 configs, one failing: 3 deployments, 2 completed runs, a red step, one comment with 3 rows', async () => {
    const dir = project([
      ['alpha', 'hello'],
      ['beta', 'boom'],
      ['gamma', 'hello'],
    ]);
    const result = await run(dir, { 'max-parallel': '3' });
    expect(result.status, result.log).toBe(1);
    const results = JSON.parse(result.outputs.results!) as Record<string, { status: string; 'run-id': string; 'run-state': string; error?: string }>;
    expect(Object.keys(results)).toEqual([`alpha-${uid}`, `beta-${uid}`, `gamma-${uid}`]);
    expect(Object.values(results).map((r) => [r.status, r['run-state']])).toEqual([
      ['succeeded', 'COMPLETED'],
      ['failed', 'FAILED'],
      ['succeeded', 'COMPLETED'],
    ]);
    // On the server: three deployments, and each run in the state reported.
    for (const [team, flow] of [['alpha', 'hello'], ['beta', 'boom'], ['gamma', 'hello']] as const) {
      await prefectApi(apiUrl!, 'GET', `deployments/name/${flow}/${team}-${uid}`);
      const runId = results[`${team}-${uid}`]!['run-id'];
      const flowRun = await prefectApi<{ state: { type: string } }>(apiUrl!, 'GET', `flow_runs/${runId}`);
      expect(flowRun.state.type).toBe(team === 'beta' ? 'FAILED' : 'COMPLETED');
    }
    const errors = result.log.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors.at(-1)).toBe(`::error::1 of 3 workflows failed (beta-${uid})`);
    const comments = api.commentsOn(repository, 7);
    expect(comments).toHaveLength(1);
    const rows = comments[0]!.body.split('\n').filter((l) => /^\| (alpha|beta|gamma)-/.test(l));
    expect(rows).toHaveLength(3);
    expect(rows[1]).toContain('❌ failed');
    expect(comments[0]!.body).toContain('### ❌ lolpop-deploy: 3 workflows, 1 failed');
    expect(result.summary).toContain('### ❌ lolpop-deploy: 3 workflows, 1 failed');
  });

  it('fail-fast: after the first failure nothing else starts', async () => {
    const dir = project([
      ['aa-fails', 'boom'],
      ['bb', 'hello'],
      ['cc', 'hello'],
    ]);
    const result = await run(dir, { 'max-parallel': '1', 'fail-fast': 'true', comment: 'never' });
    expect(result.status).toBe(1);
    const results = JSON.parse(result.outputs.results!) as Record<string, { status: string }>;
    expect(Object.values(results).map((r) => r.status)).toEqual(['failed', 'not-started', 'not-started']);
    await expect(prefectApi(apiUrl!, 'GET', `deployments/name/hello/bb-${uid}`)).rejects.toThrow(/404/);
    expect(result.log).toContain(`::error::1 of 3 workflows failed (aa-fails-${uid}); 2 not started (fail-fast)`);
  });
});
