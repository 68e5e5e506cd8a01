import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/orchestrators/local/state.js';
import { BUNDLE, readOutputs, runBundledAction } from '../../helpers/run-action.js';
import { service } from '../../helpers/services.js';
import { copyExample } from '../../local/example.js';
import { alive, SLEEPER, sleeperPids, until } from '../../local/project.js';
import { cancelLikeTheRunner } from './runner-signals.js';

const node24 = service('LOLPOP_TEST_NODE24');

/** The quickstart with slow.yaml: its flow (SLEEPER) starts `sleep` and sleeps a minute. */
function slowProject(): string {
  const dir = copyExample('quickstart');
  writeFileSync(path.join(dir, 'slow.py'), SLEEPER);
  const yaml = readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8').replace('lolpop_install_location: ""', 'lolpop_install_location: ""\n      flow_entrypoint: slow.py:main');
  writeFileSync(path.join(dir, 'slow.yaml'), yaml);
  return dir;
}

function step(dir: string, extra: { state?: Record<string, string>; started?: (child: ChildProcess, stateFile: string) => void } = {}) {
  return runBundledAction({
    node: node24!,
    cwd: dir,
    inputs: { steps: 'deploy,run', config: 'slow.yaml', comment: 'never' },
    env: { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'acme/qs', GITHUB_RUN_ID: randomUUID(), GITHUB_RUN_ATTEMPT: '1' },
    ...extra,
  });
}

/** Once the main step has saved the local run for its post step and the flow printed its pids: `then` the step. */
function whenRunning(dir: string, then: (child: ChildProcess) => void) {
  return (child: ChildProcess, stateFile: string) => {
    void until(() => readOutputs(stateFile)['started-runs'] !== undefined && runPids(dir).length === 2, 60_000).then(() => then(child));
  };
}

function runRecord(dir: string, id: string): RunRecord {
  return JSON.parse(readFileSync(path.join(dir, '.lolpop-deploy/runs', id, 'run.json'), 'utf8')) as RunRecord;
}

/** The one run's id, once its folder exists. */
function latestRun(dir: string): string | undefined {
  const runs = path.join(dir, '.lolpop-deploy/runs');
  return existsSync(runs) ? readdirSync(runs).filter((n) => !n.startsWith('.')).sort().at(-1) : undefined;
}

/** The pids the running flow printed (python, and the `sleep` it started), from its log. */
function runPids(dir: string): number[] {
  const id = latestRun(dir);
  const log = id && path.join(dir, '.lolpop-deploy/runs', id, 'log.txt');
  return log && existsSync(log) ? sleeperPids(readFileSync(log, 'utf8')) : [];
}

// The local orchestrator runs the flow in this step's own process group. When the step is
// killed outright (SIGKILL: no handler runs) the Python process and what it started outlive
// it; the post step finds them by the marker the run's record holds and stops them.
describe.skipIf(!node24)('a cancelled job stops the local run its step started', () => {
  beforeAll(() => expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true));

  it('the step killed (SIGKILL) during a local run: the post step stops its processes and records it CANCELLED', async () => {
    const dir = slowProject();
    const main = await step(dir, { started: whenRunning(dir, (child) => child.kill('SIGKILL')) });
    expect(main.signal, main.log).toBe('SIGKILL');
    const [python, sleep] = runPids(dir);
    const id = latestRun(dir)!;
    // Nothing of the killed step stopped them.
    expect(alive(python!) && alive(sleep!)).toBe(true);
    expect(runRecord(dir, id).state).toBe('RUNNING');

    const post = await step(dir, { state: main.state });
    expect(post.status, post.log).toBe(0);
    expect(post.log).toMatch(new RegExp(`quickstart: run ${id} CANCELLED: stopped its [1-9]\\d* process\\(es\\)`));
    expect(await until(() => !alive(python!) && !alive(sleep!), 15_000)).toBe(true);
    expect(runRecord(dir, id)).toMatchObject({ state: 'CANCELLED', error: expect.stringContaining('the job was cancelled') });
    expect(post.summary).toContain('cancelled');
  });

  it('SIGINT, SIGTERM, SIGKILL as the runner sends them, then the post step: the step stopped the run itself, the post step finds it ended', async () => {
    const dir = slowProject();
    const main = await step(dir, { started: whenRunning(dir, cancelLikeTheRunner) });
    expect(main.signal, main.log).toBe('SIGINT');
    const [python, sleep] = runPids(dir);
    const id = latestRun(dir)!;
    expect(alive(python!) || alive(sleep!)).toBe(false);
    const post = await step(dir, { state: main.state });
    expect(post.status, post.log).toBe(0);
    expect(post.log).toContain(`quickstart: run ${id} had already ended CANCELLED`);
    expect(post.summary).toContain('cancelled');
  });
});
