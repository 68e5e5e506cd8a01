import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { airflowEnv, airflowGet, airflowService, writeTinyWorkflow } from './helpers.js';

const airflow = airflowService();
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };

describe.skipIf(!airflow)('AirflowOrchestrator plan, against a real Airflow 3', () => {
  it('shows the files, the delivery and the REST calls without changing anything; after deploy it shows the release as current', async () => {
    const dir = tempDir('airflow');
    const name = `tiny-plan-${randomUUID().slice(0, 6)}`;
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { greeting: 'planned' } });
    const env = airflowEnv(airflow!);
    const ci = ciContext({ repository: 'acme/tiny', runId: '42', runAttempt: '1' });
    const before = await runConfig({ dir, yaml, env, ci, steps: 'plan', overrides: AIRFLOW });
    expect(before.result.error, before.logger.lines.join('\n')).toBeUndefined();
    const plan = before.result.plan!;
    expect(plan.files).toEqual([
      { path: 'prefect_files/run.py', change: 'new' },
      { path: `prefect_files/airflow/${name}.py`, change: 'new' },
    ]);
    expect(plan.actions.join('\n')).toContain(`wait for Airflow to parse the new DAG ${name} on ${airflow!.url}`);
    expect(plan.requests).toEqual([
      { method: 'PATCH', url: `${airflow!.url}/api/v2/dags/${name}`, body: { is_paused: false } },
      {
        method: 'POST',
        url: `${airflow!.url}/api/v2/dags/${name}/dagRuns`,
        body: { dag_run_id: expect.stringMatching(/^lolpop-deploy~acme~tiny~42~1~tiny-plan-/), logical_date: null, conf: { greeting: 'planned' } },
      },
    ]);
    // Nothing was written or sent.
    expect(existsSync(path.join(dir, 'prefect_files'))).toBe(false);
    expect(existsSync(path.join(airflow!.dagsFolder, name))).toBe(false);
    expect((await airflowGet(airflow!, `dags/${name}`)).status).toBe(404);

    expect((await runConfig({ dir, yaml, env, ci, steps: 'package,deploy', overrides: AIRFLOW })).result.error).toBeUndefined();
    const after = (await runConfig({ dir, yaml, env, ci, steps: 'plan', overrides: AIRFLOW })).result.plan!;
    expect(after.files.map((f) => f.change)).toEqual(['unchanged', 'unchanged']);
    expect(after.actions.join('\n')).toContain('(it already shows this release)');
    expect(after.requests.map((r) => r.method)).toEqual(['PUT', 'POST']);
  });

  it('plans offline without a server', async () => {
    const dir = tempDir('airflow');
    const yaml = writeTinyWorkflow(dir, { name: 'tiny-offline', dagsFolder: airflow!.dagsFolder });
    const { result } = await runConfig({ dir, yaml, env: { PATH: process.env.PATH }, ci: ciContext(), steps: 'plan', overrides: AIRFLOW });
    expect(result.error).toBeUndefined();
    expect(result.plan!.actions.join('\n')).toContain('(offline: no AIRFLOW_API_URL)');
    expect(result.plan!.requests.map((r) => r.url)).toEqual(['<AIRFLOW_API_URL>/api/v2/dags/tiny-offline', '<AIRFLOW_API_URL>/api/v2/dags/tiny-offline/dagRuns']);
  });
});
