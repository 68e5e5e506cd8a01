import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { airflowEnv, airflowGet, airflowService, writeTinyWorkflow } from './helpers.js';

const airflow = airflowService();
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };
const WAIT = { wait: true, wait_timeout: '120s', poll_interval: '1s' };

interface TaskInstances {
  task_instances: Array<{ task_id: string; state: string }>;
}

describe.skipIf(!airflow)('AirflowOrchestrator: what fails, against a real Airflow 3', () => {
  it('a failing task: the run ends FAILED and the error names the task and quotes its log', async () => {
    const dir = tempDir('airflow');
    const name = `tiny-fail-${randomUUID().slice(0, 6)}`;
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { fail: true, greeting: 'boom' } });
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID() });
    const { result } = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'deploy,run', overrides: { ...AIRFLOW, runSettings: WAIT } });
    expect(result.run?.state).toBe('FAILED');
    const message = result.error?.message ?? '';
    expect(message).toMatch(/ended FAILED: task build_all failed/);
    expect(message).toContain('task build_all failed: RuntimeError: the model diverged: boom (exit code 1)');
    expect(message).toMatch(/Last log lines of build_all:\n[\s\S]*tiny_runner\.py", line \d+, in build_all/);
    expect(message).toContain(`/dags/${name}/runs/`);
    // The server agrees.
    const run = await airflowGet<{ state: string }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(result.run!.id)}`);
    expect(run.body.state).toBe('failed');
    const tasks = await airflowGet<TaskInstances>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(result.run!.id)}/taskInstances`);
    expect(tasks.body.task_instances.map((t) => [t.task_id, t.state])).toEqual([['build_all', 'failed']]);
  });

  it("a DAG file Airflow cannot import: deploy fails with the file and Airflow's message, and no run is created", async () => {
    const dir = tempDir('airflow');
    const name = `tiny-broken-${randomUUID().slice(0, 6)}`;
    // A DAG tag must be a string of at most 100 characters: Airflow refuses the DAG at import time.
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder }).replace('    parse_timeout: 90s\n', `    parse_timeout: 90s\n    dag_tags: ["${'x'.repeat(120)}"]\n`);
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID() });
    const { result } = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'deploy,run', overrides: AIRFLOW });
    const message = result.error?.message ?? '';
    expect(message).toMatch(new RegExp(`^Failed to deploy ${name}: Airflow cannot import ${name}/${name}\\.py: `));
    expect(result.run).toBeUndefined();
    expect(result.steps.find((s) => s.step === 'run')?.status).not.toBe('success');
    const dag = await airflowGet(airflow!, `dags/${name}`);
    expect(dag.status).toBe(404);
    const errors = await airflowGet<{ import_errors: Array<{ filename: string }> }>(airflow!, `importErrors?filename=${encodeURIComponent(`${name}/${name}.py`)}`);
    expect(errors.body.import_errors.length).toBe(1);
    // The same broken content again: the file is not rewritten or reparsed, and the
    // recorded error is still this content's, so deploy fails at once, not at the timeout.
    const started = Date.now();
    const again = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'deploy', overrides: AIRFLOW });
    expect(again.result.error?.message).toBe(message);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(message).toContain('ValueError: tag cannot be longer than 100 characters (at File "');
  });
});
