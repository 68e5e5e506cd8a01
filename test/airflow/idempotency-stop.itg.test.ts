import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { airflowEnv, airflowGet, airflowService, eventually, TINY_RUNNER_PY, writeTinyWorkflow } from './helpers.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const airflow = airflowService();
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };

interface RunList {
  dag_runs: Array<{ dag_run_id: string; state: string }>;
  total_entries: number;
}

describe.skipIf(!airflow)('AirflowOrchestrator: idempotent runs and stop, against a real Airflow 3', () => {
  it('a retried run step of the same workflow attempt finds its run (409 → GET): same id, no second run; a new attempt starts one', async () => {
    const dir = tempDir('airflow');
    const name = `tiny-idem-${randomUUID().slice(0, 6)}`;
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder });
    const env = airflowEnv(airflow!);
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID(), runAttempt: '1' });
    const first = await runConfig({ dir, yaml, env, ci, steps: 'deploy,run', overrides: AIRFLOW });
    expect(first.result.error).toBeUndefined();
    expect(first.result.run?.created).toBe(true);
    const again = await runConfig({ dir, yaml, env, ci, steps: 'run', overrides: AIRFLOW });
    expect(again.result.error).toBeUndefined();
    expect(again.result.run?.id).toBe(first.result.run?.id);
    expect(again.result.run?.created).toBe(false);
    expect(again.logger.lines.join('\n')).toContain('already existed for idempotency key');
    const runs = await airflowGet<RunList>(airflow!, `dags/${name}/dagRuns`);
    expect(runs.body.dag_runs.map((r) => r.dag_run_id)).toEqual([first.result.run!.id]);

    const rerun = await runConfig({ dir, yaml, env, ci: { ...ci, runAttempt: '2' }, steps: 'run', overrides: AIRFLOW });
    expect(rerun.result.run?.created).toBe(true);
    expect(rerun.result.run?.id).not.toBe(first.result.run?.id);
    expect((await airflowGet<RunList>(airflow!, `dags/${name}/dagRuns`)).body.total_entries).toBe(2);
  });

  it('stop (default: pause) pauses the DAG and leaves it and its runs in place', async () => {
    const dir = tempDir('airflow');
    const name = `tiny-pause-${randomUUID().slice(0, 6)}`;
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder });
    const env = airflowEnv(airflow!);
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID() });
    expect((await runConfig({ dir, yaml, env, ci, steps: 'deploy', overrides: AIRFLOW })).result.error).toBeUndefined();
    expect((await airflowGet<{ is_paused: boolean }>(airflow!, `dags/${name}`)).body.is_paused).toBe(false);
    const { result } = await runConfig({ dir, yaml, env, ci, steps: 'stop', overrides: AIRFLOW });
    expect(result.error).toBeUndefined();
    expect(result.stopped?.detail).toBe(`paused DAG ${name}`);
    expect((await airflowGet<{ is_paused: boolean }>(airflow!, `dags/${name}`)).body.is_paused).toBe(true);
    expect(existsSync(path.join(airflow!.dagsFolder, name, `${name}.py`))).toBe(true);
    // A run of a paused DAG would sit queued: run refuses, saying why.
    const run = await runConfig({ dir, yaml, env, ci, steps: 'run', overrides: AIRFLOW });
    expect(run.result.error?.message).toMatch(/the DAG '.*' is paused/);
  });

  it('stop with cancel_runs marks a running run failed and returns once the task process is gone', async () => {
    const dir = tempDir('airflow');
    const name = `tiny-cancel-${randomUUID().slice(0, 6)}`;
    const marker = path.join(dir, 'finished.json');
    const pidFile = path.join(dir, 'runner.pid');
    // The worker runs on this machine: the runner's own pid shows whether its process is gone.
    const runner = TINY_RUNNER_PY.replace('        if sleep:\n', `        open(${JSON.stringify(pidFile)}, "w").write(str(os.getpid()))\n        if sleep:\n`);
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { sleep: 45, marker }, stop: '{cancel_runs: true}', runner });
    const env = airflowEnv(airflow!);
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID() });
    const started = await runConfig({ dir, yaml, env, ci, steps: 'deploy,run', overrides: AIRFLOW });
    expect(started.result.error).toBeUndefined();
    const runPath = `dags/${name}/dagRuns/${encodeURIComponent(started.result.run!.id)}`;
    const pid = await eventually(async () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '' ? Number(readFileSync(pidFile, 'utf8')) : undefined), 90_000, 'the runner to start');
    const { result } = await runConfig({ dir, yaml, env, ci, steps: 'stop', overrides: AIRFLOW });
    // Checked first, before anything else takes time: Airflow 3.3.2 kills it 1–5 s after the run is marked failed.
    expect(isAlive(pid), 'the runner process outlived stop').toBe(false);
    expect(result.error).toBeUndefined();
    expect(result.stopped?.detail).toBe(`paused DAG ${name}; marked 1 queued/running run(s) failed; 1 running task process(es) ended`);
    expect((await airflowGet<{ state: string }>(airflow!, runPath)).body.state).toBe('failed');
    const tasks = await airflowGet<{ task_instances: Array<{ state: string }> }>(airflow!, `${runPath}/taskInstances`);
    expect(tasks.body.task_instances.map((t) => t.state)).toEqual(['failed']);
    expect((await airflowGet<{ is_paused: boolean }>(airflow!, `dags/${name}`)).body.is_paused).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('stop with mode delete fails the running run, removes the files, and deletes the DAG for good', async () => {
    const dir = tempDir('airflow');
    const name = `tiny-delete-${randomUUID().slice(0, 6)}`;
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { sleep: 45 }, stop: '{mode: delete}' });
    const env = airflowEnv(airflow!);
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID() });
    const started = await runConfig({ dir, yaml, env, ci, steps: 'deploy,run', overrides: AIRFLOW });
    expect(started.result.error).toBeUndefined();
    const runPath = `dags/${name}/dagRuns/${encodeURIComponent(started.result.run!.id)}`;
    await eventually(async () => ((await airflowGet<{ state: string }>(airflow!, runPath)).body.state === 'running' ? true : undefined), 60_000, 'the run to be running');
    const { result } = await runConfig({ dir, yaml, env, ci, steps: 'stop', overrides: AIRFLOW });
    expect(result.error).toBeUndefined();
    expect(result.stopped?.detail).toBe(`marked 1 queued/running run(s) failed; 1 running task process(es) ended; removed the files of ${name}; deleted DAG ${name}`);
    expect(existsSync(path.join(airflow!.dagsFolder, name))).toBe(false);
    expect((await airflowGet(airflow!, `dags/${name}`)).status).toBe(404);
    // Longer than the dag-processor's refresh interval: a DAG whose file were still there would be back.
    await new Promise((r) => setTimeout(r, 8000));
    expect((await airflowGet(airflow!, `dags/${name}`)).status).toBe(404);
    // Deleting the DAG did not race the dag-processor (in 3.3.2 that race kills it).
    const health = await airflowGet<{ dag_processor: { status: string } }>(airflow!, 'monitor/health');
    expect(health.body.dag_processor.status).toBe('healthy');
    // Stopping again: nothing left, not an error.
    const again = await runConfig({ dir, yaml, env, ci, steps: 'stop', overrides: AIRFLOW });
    expect(again.result.error).toBeUndefined();
    expect(again.result.stopped?.stopped).toBe(false);
  });
});
