import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { airflowGet, airflowService, eventually, writeTinyWorkflow } from '../../airflow/helpers.js';
import { prefectApi } from '../../helpers/pipeline.js';
import { BUNDLE, readOutputs, runBundledAction } from '../../helpers/run-action.js';
import { gitRepository, service, tempDir } from '../../helpers/services.js';
import { GITHUB_TOKEN, GitHubApiServer } from '../github/api-server.js';

const node24 = service('LOLPOP_TEST_NODE24');
const prefectUrl = service('LOLPOP_TEST_PREFECT_URL');
const pool = service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process';
const airflow = airflowService();

const FLOWS = `
import time
from prefect import flow

@flow
def sleepy(seconds: int = 600):
    time.sleep(seconds)
`;

interface StartedRun {
  name: string;
  run: { id: string; url: string };
}

/**
 * What GitHub's runner does to a step when the job is cancelled (or times out): SIGINT,
 * SIGTERM 7.5 s later, SIGKILL 2.5 s after that, each only if the process is still there.
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

// The job is cancelled while the step waits for a real Prefect flow run (process worker)
// and a real Airflow DAG run (Airflow 3): the bundled action under Node 24 is signalled as
// the runner signals it, then its post step runs with the state the main step saved.
describe.skipIf(!node24 || !prefectUrl || !airflow)('a cancelled job cancels the runs its step started', () => {
  let api: GitHubApiServer;
  let root: string;
  let sha: string;
  const uid = randomUUID().slice(0, 6);
  const repository = `acme/cancel-${uid}`;

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    api = await GitHubApiServer.start();
    root = tempDir('gh');
    sha = gitRepository(root, repository, { 'flows.py': FLOWS });
  });
  afterAll(() => api?.close());

  function project(): string {
    const dir = tempDir('cancel');
    // The Airflow workflow: the tiny runner sleeps 5 minutes on the Airflow worker.
    writeTinyWorkflow(dir, { name: `cancel-af-${uid}`, dagsFolder: airflow!.dagsFolder, parameters: { sleep: 300 } });
    writeFileSync(path.join(dir, 'lolpop.yaml'), `decorator: {orchestrator: AirflowOrchestrator}\n${readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8')}`);
    // The Prefect workflow: a flow that sleeps 10 minutes on the process pool.
    writeFileSync(
      path.join(dir, 'prefect.yaml'),
      `decorator: {orchestrator: PrefectOrchestrator}\norchestrator:\n  deployment:\n    name: cancel-pf-${uid}\n    deploy: {work_pool: ${pool}, flow_entrypoint: "flows.py:sleepy"}\n`,
    );
    return dir;
  }

  function step(dir: string, extra: { state?: Record<string, string>; started?: (child: ChildProcess, stateFile: string) => void } = {}) {
    const eventPath = path.join(dir, 'event.json');
    const repo = { full_name: repository, fork: false, default_branch: 'main' };
    writeFileSync(eventPath, JSON.stringify({ action: 'synchronize', number: 3, pull_request: { number: 3, head: { sha, repo }, base: { repo } }, repository: repo }));
    return runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run', config: 'lolpop.yaml\nprefect.yaml', wait: 'true', 'wait-timeout': '15m' },
      env: {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_SHA: sha,
        GITHUB_REF: 'refs/pull/3/merge',
        GITHUB_REPOSITORY: repository,
        GITHUB_SERVER_URL: `file://${root}`,
        GITHUB_API_URL: api.urls.api,
        GITHUB_RUN_ID: randomUUID(),
        GITHUB_RUN_ATTEMPT: '1',
        PREFECT_API_URL: prefectUrl!,
        AIRFLOW_API_URL: airflow!.url,
        AIRFLOW_USERNAME: airflow!.username,
        AIRFLOW_PASSWORD: airflow!.password,
      },
      comments: () => api.comments.map((c) => c.body),
      ...extra,
    });
  }

  it('SIGINT (then SIGTERM, SIGKILL) while both runs are running, then the post step: both end cancelled on their server, nothing of ours left', async () => {
    const dir = project();
    let started: StartedRun[] = [];
    const main = await step(dir, {
      started: (child, stateFile) => {
        // Once both runs are running on their servers, cancel the job.
        void eventually(
          async () => {
            const saved = readOutputs(stateFile)['started-runs'];
            started = saved ? (JSON.parse(saved) as StartedRun[]) : [];
            if (started.length < 2) return undefined;
            const states = await Promise.all(started.map((s) => serverState(s)));
            return states.every((s) => s === 'RUNNING' || s === 'running') ? true : undefined;
          },
          240_000,
          'both runs to be running',
        ).then(
          () => cancelLikeTheRunner(child),
          () => child.kill('SIGKILL'),
        );
      },
    });
    expect(main.signal, main.log).toBe('SIGINT');
    expect(main.log).toMatch(/::warning::Received SIGINT \(the job was cancelled or timed out\): cancelling run /);
    expect(started.map((s) => s.name).sort()).toEqual([`cancel-af-${uid}`, `cancel-pf-${uid}`]);

    const prefectRun = started.find((s) => s.name.startsWith('cancel-pf'))!;
    const airflowRun = started.find((s) => s.name.startsWith('cancel-af'))!;
    // On the signal, the main step asked both servers (without waiting: the kill is seconds away).
    expect(main.log).toContain(`cancel-pf-${uid}: flow run ${prefectRun.run.id} asked to cancel (CANCELLING)`);
    expect(main.log).toContain(`cancel-af-${uid}: run ${airflowRun.run.id} of DAG cancel-af-${uid} marked failed`);

    // The post step asks again (idempotent) and waits for both to end.
    const post = await step(dir, { state: main.state });
    expect(post.status, post.log).toBe(0);
    expect(post.log).toContain(`cancel-pf-${uid}: flow run ${prefectRun.run.id} CANCELLED`);
    expect(post.log).toContain(`cancel-af-${uid}: run ${airflowRun.run.id} of DAG cancel-af-${uid} is failed`);
    // On the servers: the flow run CANCELLED (its worker ended the process), the DAG run
    // failed and its task no longer running (Airflow killed it).
    expect(await serverState(prefectRun)).toBe('CANCELLED');
    expect(await serverState(airflowRun)).toBe('failed');
    const tasks = await airflowGet<{ task_instances: Array<{ state: string }> }>(airflow!, `dags/cancel-af-${uid}/dagRuns/${encodeURIComponent(airflowRun.run.id)}/taskInstances`);
    expect(tasks.body.task_instances.map((t) => t.state)).toEqual(['failed']);
    // The summary and the PR comment say so.
    expect(post.summary).toContain('cancelled: the job was cancelled while run');
    const comment = api.commentsOn(repository, 3).at(-1)!.body;
    expect(comment).toContain(`cancelled: the job was cancelled while run ${prefectRun.run.id}`);
    // Nothing of ours keeps running: no process of this bundle is left.
    expect(processesRunning(BUNDLE)).toEqual([]);
  }, 480_000);

  it('the post step of a step that ended by itself cancels nothing', async () => {
    const post = await step(project(), { state: { isPost: 'true', finished: 'true' } });
    expect(post.status, post.log).toBe(0);
    expect(post.log).toContain('lolpop-deploy: the step ended by itself: no run to cancel');
  });
});

/** A started run's state on its own server (Prefect's state type, Airflow's run state). */
async function serverState(started: StartedRun): Promise<string> {
  if (started.name.startsWith('cancel-pf')) return (await prefectApi<{ state: { type: string } }>(prefectUrl!, 'GET', `flow_runs/${started.run.id}`)).state.type;
  const dagId = started.name;
  return (await airflowGet<{ state: string }>(airflow!, `dags/${dagId}/dagRuns/${encodeURIComponent(started.run.id)}`)).body.state;
}

function processesRunning(file: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(file));
}
