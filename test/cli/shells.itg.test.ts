import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { airflowEnv, airflowService, writeTinyWorkflow } from '../airflow/helpers.js';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { CLI_BUNDLE, runBundledCli } from '../helpers/run-cli.js';
import { service, tempDir } from '../helpers/services.js';
import { copyExample } from '../local/example.js';

const node24 = service('LOLPOP_TEST_NODE24');
const airflow = airflowService();

/** The quickstart with lolpop's Prefect decorator and a work pool: what a user deploys to Prefect. */
function prefectQuickstart(): string {
  const dir = copyExample('quickstart');
  writeFileSync(
    path.join(dir, 'prefect.yaml'),
    `decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  deployment:
    name: offline-demo
    deploy:
      work_pool: my-pool
      pull_steps:
        - prefect.deployments.steps.set_working_directory: {directory: /opt/quickstart}
    package:
      lolpop_class: QuickstartRunner
      lolpop_module: quickstart_runner
      copy_files: [quickstart_runner.py, train.csv, test.csv, dev.yaml]
      config_file: dev.yaml
`,
  );
  return dir;
}

// No PREFECT_API_URL anywhere: HOME is a fresh directory, so no Prefect profile either.
const noServer = () => ({ HOME: tempDir('home') });

describe('the bundled CLI (dist/cli/index.js), as a user runs it', () => {
  it('plan with no server configured shows the offline plan and changes nothing; deploy then names the missing setting', async () => {
    expect(existsSync(CLI_BUNDLE), 'dist/cli/index.js must be built (npm run bundle)').toBe(true);
    const dir = prefectQuickstart();
    const before = readdirSync(dir).sort();
    const plan = await runBundledCli(['plan', '-c', 'prefect.yaml'], dir, noServer());
    expect(plan.stderr).not.toContain('PREFECT_API_URL is not set');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^plan +success .*nothing was changed$/m);
    expect(plan.stdout).toContain('1. no Prefect server configured (PREFECT_API_URL): an offline plan, nothing read from a server');
    expect(plan.stdout).toMatch(/POST \$PREFECT_API_URL\/deployments\//);
    expect(readdirSync(dir).sort()).toEqual(before);
    const deploy = await runBundledCli(['deploy', '-c', 'prefect.yaml'], dir, noServer());
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toMatch(/^error: PREFECT_API_URL is not set: add it to the workflow env/m);
  });

  it("accepts deploy as well as build, and up --deployer as lolpop users type it", async () => {
    const dir = prefectQuickstart();
    const deploy = await runBundledCli(['deploy', '-c', 'lolpop.yaml', '--deployer', 'LocalOrchestrator'], dir, noServer());
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).toMatch(/^deploy +success .*deployment quickstart$/m);
    // --deployer chooses over the file's decorator (PrefectOrchestrator), as --orchestrator does.
    writeFileSync(path.join(dir, 'decorated.yaml'), `decorator: {orchestrator: PrefectOrchestrator}\n${readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8')}`);
    const up = await runBundledCli(['up', '-c', 'decorated.yaml', '--deployer', 'LocalOrchestrator', '--steps', 'plan', '--json'], dir, noServer());
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ orchestrator: 'LocalOrchestrator', deploymentName: 'quickstart' });
  });

  it('plan --help offers no --wait; a bad --run-kwargs shows a run parameter as the example', async () => {
    const dir = tempDir('cli-help');
    const help = await runBundledCli(['plan', '--help'], dir, {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: lolpop-deploy plan');
    expect(help.stdout).not.toContain('--wait');
    const bad = await runBundledCli(['up', '--run-kwargs', '{min_accuracy: 0.9}'], dir, {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --run-kwargs: not valid JSON \(.*\); expected an object such as \{"min_accuracy": 0\.9\} \(each key a run parameter\)$/m);
  });
});

describe.skipIf(!node24)('the bundled action (dist/index.js) under Node 24', () => {
  const github = { GITHUB_REPOSITORY: 'acme/quickstart', GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '1' };

  it('steps: plan,deploy,run with no server configured shows the offline plan in the summary', async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    const dir = prefectQuickstart();
    const run = await runBundledAction({ node: node24!, cwd: dir, inputs: { config: 'prefect.yaml', steps: 'plan,deploy,run', comment: 'never' }, env: { ...github, ...noServer() } });
    expect(run.log).not.toContain('PREFECT_API_URL is not set');
    expect(run.status, run.log).toBe(0);
    expect(run.summary).toContain('1. no Prefect server configured (PREFECT_API_URL): an offline plan, nothing read from a server');
    expect(run.summary).toMatch(/\| plan \| ✅ success \|/);
  });
});

describe.skipIf(!node24 || !airflow)('the run noun, through the bundled action against a real Airflow 3', () => {
  it("the summary calls an Airflow run a DAG run, not a flow run", async () => {
    const dir = tempDir('airflow-noun');
    const name = `noun-${randomUUID().slice(0, 6)}`;
    writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder });
    const env = airflowEnv(airflow!) as Record<string, string>;
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { config: 'lolpop.yaml', orchestrator: 'AirflowOrchestrator', steps: 'deploy,run', comment: 'never' },
      env: { AIRFLOW_API_URL: env.AIRFLOW_API_URL!, AIRFLOW_USERNAME: env.AIRFLOW_USERNAME!, AIRFLOW_PASSWORD: env.AIRFLOW_PASSWORD!, GITHUB_REPOSITORY: 'acme/noun', GITHUB_RUN_ID: randomUUID(), GITHUB_RUN_ATTEMPT: '1', GITHUB_EVENT_NAME: 'workflow_dispatch' },
    });
    expect(run.status, run.log).toBe(0);
    expect(run.summary).toMatch(new RegExp(`^- \\*\\*DAG run\\*\\*: \\[[^\\]]+\\]\\(${airflow!.url}/dags/${name}/runs/`, 'm'));
    expect(run.summary).toMatch(/\| run \| ✅ success \| .* \| DAG run \S+ /);
    expect(run.summary).not.toMatch(/\bflow run/);
  });
});
