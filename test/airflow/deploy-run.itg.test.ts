import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { airflowEnv, airflowGet, airflowService, writeTinyWorkflow } from './helpers.js';

const airflow = airflowService();
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };

interface DagBody {
  dag_id: string;
  is_paused: boolean;
  tags: Array<{ name: string }>;
  relative_fileloc: string;
}
interface RunBody {
  dag_run_id: string;
  state: string;
  conf: Record<string, unknown>;
}

describe.skipIf(!airflow)('AirflowOrchestrator against a real Airflow 3', () => {
  it('deploys a DAG, runs it with conf as the runner parameters, and waits to COMPLETED', async () => {
    const dir = tempDir('airflow');
    const name = `tiny-ok-${randomUUID().slice(0, 6)}`;
    const marker = path.join(dir, 'marker.json');
    const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { greeting: "it's \"quoted\" and spaced", marker } });
    const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID(), runAttempt: '1' });
    const { result, logger } = await runConfig({ dir, yaml, env: airflowEnv(airflow!), ci, steps: 'package,deploy,run', overrides: { ...AIRFLOW, runSettings: { wait: true, wait_timeout: '120s', poll_interval: '1s' } } });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.run?.state).toBe('COMPLETED');
    expect(result.run?.url).toBe(`${airflow!.url}/dags/${name}/runs/${encodeURIComponent(result.run!.id)}`);
    expect(result.deployment?.url).toBe(`${airflow!.url}/dags/${name}`);
    expect(result.packaged?.files).toContain(`prefect_files/airflow/${name}.py`);

    // The server's own state: the DAG is this version, unpaused; the run succeeded with our conf.
    const dag = await airflowGet<DagBody>(airflow!, `dags/${name}`);
    expect(dag.status).toBe(200);
    expect(dag.body.is_paused).toBe(false);
    expect(dag.body.relative_fileloc).toBe(`${name}/${name}.py`);
    expect(dag.body.tags.map((t) => t.name)).toContain('lolpop');
    expect(dag.body.tags.some((t) => t.name.startsWith('lolpop-deploy:'))).toBe(true);
    const run = await airflowGet<RunBody>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(result.run!.id)}`);
    expect(run.body.state).toBe('success');
    expect(run.body.conf).toEqual({ greeting: "it's \"quoted\" and spaced", marker });
    // The runner really ran, on the worker, with the parameters intact.
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({ greeting: "it's \"quoted\" and spaced", run_id: result.run!.id });
    expect(existsSync(path.join(airflow!.dagsFolder, name, '.airflowignore'))).toBe(true);
  });
});

describe.skipIf(!airflow)('AirflowOrchestrator: redeploying a changed workflow, against a real Airflow 3', () => {
  it('a changed deploy gets a new fingerprint that Airflow shows before deploy returns; the next run uses it; the previous release stays for its runs', async () => {
    const dir = tempDir('airflow');
    const name = `tiny-update-${randomUUID().slice(0, 6)}`;
    const marker = path.join(dir, 'marker.json');
    const env = airflowEnv(airflow!);
    const deploy = async (greeting: string) => {
      const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder, parameters: { marker } }).replace(
        '      copy_files: [tiny_runner.py]\n',
        `      copy_files: [tiny_runner.py]\n    deploy:\n      parameters: {greeting: ${JSON.stringify(greeting)}}\n`,
      );
      const ci = ciContext({ repository: 'acme/tiny', runId: randomUUID() });
      const run = await runConfig({ dir, yaml, env, ci, steps: 'deploy,run', overrides: { ...AIRFLOW, runSettings: { wait: true, wait_timeout: '120s', poll_interval: '1s' } } });
      expect(run.result.error, run.logger.lines.join('\n')).toBeUndefined();
      const dag = await airflowGet<DagBody>(airflow!, `dags/${name}`);
      return dag.body.tags.map((t) => t.name).find((t) => t.startsWith('lolpop-deploy:'))!.slice('lolpop-deploy:'.length);
    };
    const v1 = await deploy('first');
    expect(JSON.parse(readFileSync(marker, 'utf8')).greeting).toBe('first');
    const v2 = await deploy('second');
    expect(v2).not.toBe(v1);
    expect(JSON.parse(readFileSync(marker, 'utf8')).greeting).toBe('second');
    expect(existsSync(path.join(airflow!.dagsFolder, name, 'releases', v1))).toBe(true);
    expect(existsSync(path.join(airflow!.dagsFolder, name, 'releases', v2))).toBe(true);
  });
});
