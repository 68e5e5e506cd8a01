import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { airflowEnv, eventually, writeTinyWorkflow } from './helpers.js';

// The same AirflowOrchestrator against a real Apache Airflow 2.10 (LOLPOP_AIRFLOW_MAJOR=2
// bash scripts/airflow-services.sh): /api/v1 with basic auth, found by asking the server.
const url = service('LOLPOP_TEST_AIRFLOW2_URL');
const username = service('LOLPOP_TEST_AIRFLOW2_USERNAME');
const password = service('LOLPOP_TEST_AIRFLOW2_PASSWORD');
const dagsFolder = service('LOLPOP_TEST_AIRFLOW2_DAGS_FOLDER');
const airflow = url && username && password && dagsFolder ? { url, username, password, dagsFolder } : undefined;
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };
const WAIT = { wait: true, wait_timeout: '180s', poll_interval: '1s' };

/** GET under Airflow 2's /api/v1, as its own clients call it (basic auth). */
async function v1<T>(pathname: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${airflow!.url}/api/v1/${pathname}`, {
    headers: { authorization: `Basic ${Buffer.from(`${airflow!.username}:${airflow!.password}`).toString('base64')}` },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

describe.skipIf(!airflow)('AirflowOrchestrator against a real Airflow 2.10 (/api/v1, basic auth)', () => {
  it('deploys the DAG (the same file as for Airflow 3), runs it with conf, waits to COMPLETED; links are the 2.x UI\'s', async () => {
    const dir = tempDir('airflow2');
    const name = `tiny2-ok-${randomUUID().slice(0, 6)}`;
    const marker = path.join(dir, 'marker.json');
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { greeting: 'from 2.10', marker } });
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID(), runAttempt: '1' });
    const { result, logger } = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'package,deploy,run', overrides: { ...AIRFLOW, runSettings: WAIT } });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.run?.state).toBe('COMPLETED');
    expect(result.deployment?.url).toBe(`${airflow!.url}/dags/${name}/grid`);
    expect(result.run?.url).toBe(`${airflow!.url}/dags/${name}/grid?${new URLSearchParams({ dag_run_id: result.run!.id }).toString()}`);
    const dag = await v1<{ is_paused: boolean; tags: Array<{ name: string }> }>(`dags/${name}`);
    expect(dag.body.is_paused).toBe(false);
    expect(dag.body.tags.some((t) => t.name.startsWith('lolpop-deploy:'))).toBe(true);
    const run = await v1<{ state: string; conf: unknown }>(`dags/${name}/dagRuns/${encodeURIComponent(result.run!.id)}`);
    expect(run.body).toMatchObject({ state: 'success', conf: { greeting: 'from 2.10', marker } });
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({ greeting: 'from 2.10', run_id: result.run!.id });

    // A retried run step of the same workflow attempt finds that run instead of starting another.
    const again = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'run', overrides: AIRFLOW });
    expect(again.result.run).toMatchObject({ id: result.run!.id, created: false });
    expect((await v1<{ total_entries: number }>(`dags/${name}/dagRuns`)).body.total_entries).toBe(1);

    // plan shows the requests as this server takes them: /api/v1, a trigger without logical_date.
    const plan = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'plan,deploy,run', overrides: AIRFLOW });
    expect(plan.result.error).toBeUndefined();
    const trigger = plan.result.plan!.requests.find((r) => r.method === 'POST')!;
    expect(trigger.url).toBe(`${airflow!.url}/api/v1/dags/${name}/dagRuns`);
    expect(trigger.body).toEqual({ dag_run_id: result.run!.id, conf: { greeting: 'from 2.10', marker } });

    // stop (pause), then stop with mode delete: the files go, then the DAG.
    const paused = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'stop', overrides: AIRFLOW });
    expect(paused.result.stopped?.detail).toBe(`paused DAG ${name}`);
    expect((await v1<{ is_paused: boolean }>(`dags/${name}`)).body.is_paused).toBe(true);
    const deleted = await runConfig({ dir, yaml: yaml.replace(/\n$/, '\n    stop: {mode: delete}\n'), env: airflowEnv(airflow!), ci, steps: 'stop', overrides: AIRFLOW });
    expect(deleted.result.error, deleted.logger.lines.join('\n')).toBeUndefined();
    expect(deleted.result.stopped?.detail).toBe(`no queued or running run; removed the files of ${name}; deleted DAG ${name}`);
    expect(existsSync(path.join(airflow!.dagsFolder, name))).toBe(false);
    expect((await v1(`dags/${name}`)).status).toBe(404);
  });

  it('a failing task: FAILED, naming the task and quoting the runner\'s exception from the 2.x log', async () => {
    const dir = tempDir('airflow2');
    const name = `tiny2-fail-${randomUUID().slice(0, 6)}`;
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { fail: true, greeting: 'boom' } });
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID() });
    const { result } = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'deploy,run', overrides: { ...AIRFLOW, runSettings: WAIT } });
    expect(result.run?.state).toBe('FAILED');
    const message = result.error?.message ?? '';
    expect(message).toMatch(/ended FAILED: task build_all failed/);
    expect(message).toContain('RuntimeError: the model diverged: boom');
    expect(message).toMatch(/Last log lines of build_all:\n[\s\S]*tiny_runner\.py", line \d+, in build_all/);
    expect((await v1<{ state: string }>(`dags/${name}/dagRuns/${encodeURIComponent(result.run!.id)}`)).body.state).toBe('failed');
  });

  it("a DAG file Airflow 2 cannot import: deploy fails with the file and Airflow's message; nothing runs", async () => {
    const dir = tempDir('airflow2');
    const name = `tiny2-broken-${randomUUID().slice(0, 6)}`;
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder }).replace('    parse_timeout: 90s\n', `    parse_timeout: 90s\n    dag_tags: ["${'x'.repeat(120)}"]\n`);
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID() });
    const { result } = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'deploy,run', overrides: AIRFLOW });
    expect(result.error?.message ?? '').toMatch(new RegExp(`^Failed to deploy ${name}: Airflow cannot import ${airflow!.dagsFolder}/${name}/${name}\\.py: .*100 characters`));
    expect(result.run).toBeUndefined();
    expect((await v1(`dags/${name}`)).status).toBe(404);
    await eventually(async () => ((await v1<{ import_errors: unknown[] }>('importErrors')).body.import_errors.length > 0 ? true : undefined), 5000, 'the import error');
  });
});
