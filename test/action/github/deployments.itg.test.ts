import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../airflow/helpers.js';
import { prefectApi } from '../../helpers/pipeline.js';
import { BUNDLE, readOutputs, runBundledAction, type ActionRun } from '../../helpers/run-action.js';
import { FLOWS_PY, gitRepository, service, tempDir } from '../../helpers/services.js';
import { GITHUB_TOKEN, GitHubApiServer, NO_DEPLOYMENTS_TOKEN } from './api-server.js';
import { githubEnv, HEAD_SHA, MERGE_SHA, NO_PR_SHA, REPOSITORY, seedPullRequests, SYNC_SHA, WORKFLOW, type EventFixture } from './events.js';

const node24 = service('LOLPOP_TEST_NODE24');
const prefectUrl = service('LOLPOP_TEST_PREFECT_URL');
const pool = service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process';
const QUICKSTART = ['lolpop.yaml', 'quickstart_runner.py', 'train.csv', 'test.csv', 'dev.yaml'];

const notices = (log: string) => log.split('\n').filter((l) => /^::(notice|warning|error)/.test(l));

// GitHub Deployments (the `environment` input) through the bundled action under Node 24,
// against the local GitHub API (every request and response checked against GitHub's
// OpenAPI description), on the LocalOrchestrator.
describe.skipIf(!node24)('the bundled action records GitHub deployments', () => {
  let api: GitHubApiServer;
  let project: string;

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    api = await GitHubApiServer.start();
    seedPullRequests(api);
    project = tempDir('gh-deployments');
    for (const f of QUICKSTART) copyFileSync(path.join('examples/quickstart', f), path.join(project, f));
    const second = readFileSync(path.join(project, 'lolpop.yaml'), 'utf8').replace('name: quickstart ', 'name: second ');
    writeFileSync(path.join(project, 'second.yaml'), second);
  });
  afterAll(() => api?.close());
  afterEach(() => {
    expect(api.violations).toEqual([]);
  });

  function runAction(fixture: EventFixture, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
    return runBundledAction({
      node: node24!,
      cwd: project,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run', comment: 'never', ...inputs },
      env: { ...githubEnv(fixture, api, '5001'), ...env },
    });
  }
  const created = () => api.requests.filter((r) => r.operationId === 'repos/create-deployment');
  const jobUrl = (runId: string, attempt = '') => `${api.urls.web}/${REPOSITORY}/actions/runs/${runId}${attempt}`;

  it('a production deploy: a deployment of the commit in the environment, in_progress then success, its id as the output', async () => {
    const run = await runAction('push.merged', { environment: 'production' });
    expect(run.status, run.log).toBe(0);
    expect(created().map((r) => r.body)).toEqual([
      {
        ref: MERGE_SHA,
        task: 'deploy',
        auto_merge: false,
        required_contexts: [],
        payload: { lolpop_deploy: { run_id: '5001', attempt: '1', workflow: WORKFLOW, name: 'quickstart' } },
        environment: 'production',
        description: 'lolpop-deploy: quickstart',
        transient_environment: false,
        production_environment: true,
      },
    ]);
    const [deployment] = api.deployments;
    expect(run.outputs['github-deployment-id']).toBe(String(deployment!.id));
    expect(deployment!.statuses.map((s) => [s.state, s.logUrl, s.environmentUrl])).toEqual([
      ['in_progress', jobUrl('5001'), ''],
      // The local orchestrator's pages are files on the runner: the log is the workflow run's page.
      ['success', jobUrl('5001'), ''],
    ]);
    expect(deployment!.statuses[1]!.description).toMatch(/^quickstart deployed; run \S+ COMPLETED$/);
    expect(run.log).toContain(`GitHub deployment ${deployment!.id} in environment production: success`);
    expect(notices(run.log)).toEqual([]);
  });

  it('a re-run of the same attempt reuses its deployment; the next attempt makes its own', async () => {
    const first = api.deployments[0]!;
    const again = await runAction('push.merged', { environment: 'production' });
    expect(again.status, again.log).toBe(0);
    expect(created()).toHaveLength(1);
    expect(again.outputs['github-deployment-id']).toBe(String(first.id));
    expect(again.log).toContain(`GitHub deployment ${first.id} in production: made by an earlier run of this attempt, reused`);
    expect(first.statuses.map((s) => s.state)).toEqual(['in_progress', 'success', 'in_progress', 'success']);

    const attempt2 = await runAction('push.merged', { environment: 'production' }, { GITHUB_RUN_ATTEMPT: '2' });
    expect(attempt2.status, attempt2.log).toBe(0);
    expect(created()).toHaveLength(2);
    const second = api.deployments[1]!;
    expect(attempt2.outputs['github-deployment-id']).toBe(String(second.id));
    expect(second.statuses.map((s) => [s.state, s.logUrl])).toEqual([
      ['in_progress', jobUrl('5001', '/attempts/2')],
      ['success', jobUrl('5001', '/attempts/2')],
    ]);
  });

  it('a preview: the preview name is its environment, transient and not production, at the PR head', async () => {
    const run = await runAction('pull_request.opened', { environment: 'production', preview: 'true' });
    expect(run.status, run.log).toBe(0);
    expect(created().at(-1)!.body).toMatchObject({ ref: HEAD_SHA, environment: 'quickstart-pr-7', transient_environment: true, production_environment: false });
    const sync = await runAction('pull_request.synchronize', { environment: 'production', preview: 'true' }, { GITHUB_RUN_ID: '5002' });
    expect(sync.status, sync.log).toBe(0);
    expect(created().at(-1)!.body).toMatchObject({ ref: SYNC_SHA, environment: 'quickstart-pr-7' });
    // GitHub's auto_inactive leaves transient environments alone: both stay active until the stop.
    expect(api.deploymentHistory(REPOSITORY, 'quickstart-pr-7').map((d) => d.states)).toEqual([
      ['in_progress', 'success'],
      ['in_progress', 'success'],
    ]);
  });

  it('the PR closed (stop): every deployment of the preview environment is marked inactive', async () => {
    const run = await runAction('pull_request.closed', { environment: 'production', preview: 'true' }, { GITHUB_RUN_ID: '5003' });
    expect(run.status, run.log).toBe(0);
    const history = api.deploymentHistory(REPOSITORY, 'quickstart-pr-7');
    expect(history.map((d) => d.states)).toEqual([
      ['in_progress', 'success', 'inactive'],
      ['in_progress', 'success', 'inactive'],
    ]);
    expect(created()).toHaveLength(4);
    expect(run.outputs['github-deployment-id']).toBe(String(history.at(-1)!.id));
    expect(run.log).toContain('GitHub environment quickstart-pr-7: 2 deployment(s) marked inactive');
  });

  it('a failed run: in_progress then failure, saying why; the step fails as before', async () => {
    const run = await runAction('push.no-pr', { environment: 'staging', 'run-kwargs': '{"min_accuracy": 1.01}' }, { GITHUB_RUN_ID: '5010' });
    expect(run.status, run.log).toBe(1);
    const [failed] = api.deploymentHistory(REPOSITORY, 'staging');
    expect(failed!.states).toEqual(['in_progress', 'failure']);
    const status = api.deployments.find((d) => d.id === failed!.id)!.statuses[1]!;
    expect(status.description).toMatch(/^run failed: /);
    expect(status.description.length).toBeLessThanOrEqual(140);
    expect(created().at(-1)!.body).toMatchObject({ ref: NO_PR_SHA, environment: 'staging', production_environment: true });
    expect(run.outputs['github-deployment-id']).toBe(String(failed!.id));
  });

  it('several config files: one environment each, <environment>/<name>, their ids in results', async () => {
    const run = await runAction('push.no-pr', { environment: 'production', config: 'lolpop.yaml\nsecond.yaml' }, { GITHUB_RUN_ID: '5004' });
    expect(run.status, run.log).toBe(0);
    const results = JSON.parse(run.outputs.results!) as Record<string, { 'github-deployment-id'?: string }>;
    for (const name of ['quickstart', 'second']) {
      const [d] = api.deploymentHistory(REPOSITORY, `production/${name}`);
      expect(d!.states).toEqual(['in_progress', 'success']);
      expect(results[name]!['github-deployment-id']).toBe(String(d!.id));
    }
    expect(run.outputs['github-deployment-id']).toBeUndefined();
  });

  it('a token without deployments: write: one warning naming the permission, the deploy goes on', async () => {
    const before = api.requests.length;
    const run = await runAction('push.no-pr', { environment: 'production', 'github-token': NO_DEPLOYMENTS_TOKEN }, { GITHUB_RUN_ID: '5005' });
    expect(run.status, run.log).toBe(0);
    expect(notices(run.log)).toEqual([
      "::warning::Failed to create the GitHub deployment of quickstart in environment production: Resource not accessible by integration (403); give the job 'permissions: deployments: write'. The steps go on without GitHub deployments.",
    ]);
    // Refused once: no status, nothing more asked.
    expect(api.requests.slice(before).map((r) => `${r.method} ${r.operationId} ${r.status}`)).toEqual([
      'GET repos/list-deployments 200',
      'POST repos/create-deployment 403',
    ]);
    expect(run.outputs['flow-run-state']).toBe('COMPLETED');
    expect(run.outputs['github-deployment-id']).toBeUndefined();
  });
});

/**
 * What GitHub's runner does to a step when the job is cancelled: SIGINT, SIGTERM 7.5 s
 * later, SIGKILL 2.5 s after that, each only if the process is still there.
 */
function cancelLikeTheRunner(child: ChildProcess): void {
  child.kill('SIGINT');
  const term = setTimeout(() => child.kill('SIGTERM'), 7500);
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  child.on('close', () => {
    clearTimeout(term);
    clearTimeout(kill);
  });
}

const SLEEPY_PY = `${FLOWS_PY}

@flow
def sleepy(seconds: int = 600):
    import time
    time.sleep(seconds)
`;

// On a real Prefect server (process pool): the URLs GitHub shows are Prefect's pages,
// and a job cancelled mid-run leaves its deployment `error`, saying "cancelled".
describe.skipIf(!node24 || !prefectUrl)('GitHub deployments of Prefect runs', () => {
  let api: GitHubApiServer;
  let root: string;
  let sha: string;
  const uid = randomUUID().slice(0, 6);
  const repository = `acme/deployments-${uid}`;
  const dirs: Record<string, string> = {};

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    api = await GitHubApiServer.start();
    root = tempDir('gh');
    sha = gitRepository(root, repository, { 'flows.py': SLEEPY_PY });
  });
  afterAll(() => api?.close());
  afterEach(() => {
    expect(api.violations).toEqual([]);
  });

  function step(entrypoint: string, extra: { state?: Record<string, string>; started?: (child: ChildProcess, stateFile: string) => void } = {}) {
    // The post step runs where the main step ran (the config is loaded again there).
    const dir = (dirs[entrypoint] ??= tempDir('prefect-deployments'));
    const name = `gh-${entrypoint}-${uid}`;
    writeFileSync(
      path.join(dir, 'lolpop.yaml'),
      `decorator: {orchestrator: PrefectOrchestrator}\norchestrator:\n  deployment:\n    name: ${name}\n    deploy: {work_pool: ${pool}, flow_entrypoint: "flows.py:${entrypoint}"}\n`,
    );
    const eventPath = path.join(dir, 'event.json');
    writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { full_name: repository, fork: false, default_branch: 'main' } }));
    return runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run', wait: 'true', 'wait-timeout': '10m', environment: 'production', comment: 'never' },
      env: {
        GITHUB_EVENT_NAME: 'push',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_SHA: sha,
        GITHUB_REF: 'refs/heads/main',
        GITHUB_REPOSITORY: repository,
        GITHUB_SERVER_URL: `file://${root}`,
        GITHUB_API_URL: api.urls.api,
        GITHUB_RUN_ID: entrypoint === 'hello' ? '6001' : '6002',
        GITHUB_RUN_ATTEMPT: '1',
        PREFECT_API_URL: prefectUrl!,
      },
      ...extra,
    });
  }

  it('environment_url is the Prefect deployment page, log_url the flow run page', async () => {
    const run = await step('hello');
    expect(run.status, run.log).toBe(0);
    const [d] = api.deployments;
    // in_progress again once the run started: during the wait, GitHub's log link is the flow run.
    expect(d!.statuses.map((s) => [s.state, s.logUrl])).toEqual([
      ['in_progress', ''],
      ['in_progress', run.outputs['run-url']],
      ['success', run.outputs['run-url']],
    ]);
    const success = d!.statuses[2]!;
    expect(success.environmentUrl).toBe(run.outputs['deployment-url']);
    expect(success.logUrl).toBe(run.outputs['run-url']);
    expect(success.logUrl).toMatch(/^http:\/\/.*\/runs\/flow-run\//);
    expect(run.outputs['github-deployment-id']).toBe(String(d!.id));
  }, 300_000);

  it('the job cancelled while the flow runs: the post step sets the deployment to error, "cancelled"', async () => {
    const main = await step('sleepy', {
      started: (child, stateFile) => {
        void eventually(
          async () => {
            const saved = readOutputs(stateFile)['started-runs'];
            const runs = saved ? (JSON.parse(saved) as Array<{ run: { id: string } }>) : [];
            if (runs.length === 0) return undefined;
            const flowRun = await prefectApi<{ state: { type: string } }>(prefectUrl!, 'GET', `flow_runs/${runs[0]!.run.id}`);
            // …and GitHub has the run's in_progress status.
            return flowRun.state.type === 'RUNNING' && api.deployments.at(-1)?.statuses.length === 2 ? true : undefined;
          },
          240_000,
          'the flow run to be running',
        ).then(
          () => cancelLikeTheRunner(child),
          () => child.kill('SIGKILL'),
        );
      },
    });
    expect(main.signal, main.log).toBe('SIGINT');
    const d = api.deployments.at(-1)!;
    expect(d.statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress']);
    const post = await step('sleepy', { state: main.state });
    expect(post.status, post.log).toBe(0);
    expect(d.statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress', 'error']);
    // Its log: the flow run's page, as the main step saved it.
    expect(d.statuses[2]!.logUrl).toMatch(/^http:\/\/.*\/runs\/flow-run\//);
    expect(d.statuses[2]!.description).toMatch(/^cancelled: the job was cancelled or timed out while gh-sleepy-\w+ was deploying or running$/);
    expect(post.log).toContain(`GitHub deployment ${d.id} in environment production: error (cancelled)`);
  }, 480_000);
});
