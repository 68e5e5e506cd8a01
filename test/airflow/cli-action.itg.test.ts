import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { service, tempDir } from '../helpers/services.js';
import { REPO, copyExample } from '../local/example.js';
import { airflowEnv, airflowGet, airflowService, writeTinyWorkflow } from './helpers.js';

const airflow = airflowService();
const lolpopPython = service('LOLPOP_TEST_LOLPOP_PYTHON');
const node24 = service('LOLPOP_TEST_NODE24');
const CLI = path.join(REPO, 'dist/cli/index.js');

/** The bundled CLI, as a user runs it. */
function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const res = spawnSync(process.execPath, [CLI, ...args], { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

interface UpJson {
  deploymentName: string;
  run: { id: string; state: string; url: string };
}

describe.skipIf(!airflow)('the bundled CLI and action with AirflowOrchestrator, against a real Airflow 3', () => {
  it('dist/cli: the lolpop quickstart (real lolpop 0.2.0) runs to COMPLETED as a DAG, and a parameter from --run-kwargs reaches build_all', { skip: !lolpopPython }, async () => {
    expect(existsSync(CLI), 'dist/cli/index.js must be built (npm run bundle)').toBe(true);
    const dir = copyExample('lolpop-quickstart');
    const env = { ...airflowEnv(airflow!), AIRFLOW_DAGS_FOLDER: airflow!.dagsFolder, AIRFLOW_LOLPOP_PYTHON: lolpopPython };
    const name = `lolpop-quickstart-airflow-${randomUUID().slice(0, 6)}`;
    const base = ['-c', 'quickstart-airflow.yaml', '--orchestrator', 'AirflowOrchestrator', '-n', name, '--wait', '--wait-timeout', '150s', '--json'];
    const up = cli(['up', ...base], dir, env);
    expect(up.code, up.stderr).toBe(0);
    const result = JSON.parse(up.stdout) as UpJson;
    expect(result.run.state).toBe('COMPLETED');
    // The DAG file was written by package, and the server ran it.
    expect(existsSync(path.join(dir, 'prefect_files', 'airflow', `${name}.py`))).toBe(true);
    const run = await airflowGet<{ state: string }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(result.run.id)}`);
    expect(run.body.state).toBe('success');
    // lolpop's meaning of --run-kwargs: each key is a parameter of the runner's entrypoint.
    const failed = cli(['up', ...base, '--steps', 'run', '--run-kwargs', '{"min_accuracy":0.99}'], dir, env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/ended FAILED: task build_all failed: .*Test accuracy 0\.950 is below min_accuracy 0\.990/);
    const failedRun = JSON.parse(failed.stdout) as UpJson;
    const server = await airflowGet<{ state: string; conf: unknown }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(failedRun.run.id)}`);
    expect(server.body).toMatchObject({ state: 'failed', conf: { min_accuracy: 0.99 } });
  });

  it('dist/cli with only Airflow: the tiny runner deploys and runs to COMPLETED; stop deletes the DAG', async () => {
    const dir = tempDir('airflow-cli');
    const name = `tiny-cli-${randomUUID().slice(0, 6)}`;
    writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { greeting: 'from the CLI' } });
    const env = airflowEnv(airflow!);
    const up = cli(['up', '-c', 'lolpop.yaml', '--orchestrator', 'AirflowOrchestrator', '--wait', '--wait-timeout', '120s', '--json'], dir, env);
    expect(up.code, up.stderr).toBe(0);
    const result = JSON.parse(up.stdout) as UpJson;
    expect(result.run.state).toBe('COMPLETED');
    expect((await airflowGet<{ state: string }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(result.run.id)}`)).body.state).toBe('success');
    expect(up.stderr + up.stdout).not.toContain(airflow!.password);
    const stop = cli(['stop', name, '-c', 'lolpop.yaml', '--deployer', 'AirflowOrchestrator', '--stop-kwargs', '{"mode":"delete"}'], dir, env);
    expect(stop.code, stop.stderr).toBe(0);
    expect((await airflowGet(airflow!, `dags/${name}`)).status).toBe(404);
  });

  it('dist/index.js under Node 24: the action deploys, runs and waits; outputs carry the Airflow run URL', { skip: !node24 }, async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    const dir = tempDir('airflow-action');
    const name = `tiny-action-${randomUUID().slice(0, 6)}`;
    writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder });
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { comment: 'never', config: 'lolpop.yaml', orchestrator: 'AirflowOrchestrator', wait: 'true', 'wait-timeout': '120s' },
      env: {
        AIRFLOW_API_URL: airflow!.url,
        AIRFLOW_USERNAME: airflow!.username,
        AIRFLOW_PASSWORD: airflow!.password,
        GITHUB_REPOSITORY: 'acme/tiny',
        GITHUB_RUN_ID: randomUUID(),
        GITHUB_RUN_ATTEMPT: '1',
        GITHUB_EVENT_NAME: 'workflow_dispatch',
      },
    });
    expect(run.status, run.log).toBe(0);
    // Only in the ::add-mask:: command that tells the runner to hide it.
    expect(run.log).toContain(`::add-mask::${airflow!.password}`);
    expect(run.log.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain(airflow!.password);
    const runUrl = Object.entries(run.outputs).find(([k]) => /run-url/.test(k))?.[1] ?? '';
    expect(runUrl).toMatch(new RegExp(`^${airflow!.url}/dags/${name}/runs/lolpop-deploy~acme~tiny~`));
    const runId = decodeURIComponent(runUrl.split('/runs/')[1]!);
    expect((await airflowGet<{ state: string }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(runId)}`)).body.state).toBe('success');
  });
});
