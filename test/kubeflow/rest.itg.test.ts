import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildPipelineIr } from '../../src/orchestrators/kubeflow/ir.js';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { CLI_BUNDLE, runBundledCli } from '../helpers/run-cli.js';
import { service, tempDir } from '../helpers/services.js';
import { kfpDeployment, kfpPythonAsync, ROOT } from './helpers.js';
import { KfpStandIn } from './kfp-stand-in.js';

const PYTHON = service('LOLPOP_TEST_KFP_PYTHON');
const NODE24 = service('LOLPOP_TEST_NODE24');
const TOKEN = `kfp-token-${randomUUID()}`;
const IMAGE = '127.0.0.1:5000/acme/churn:c0ffee0';

/** A churn-like workflow's config with only the orchestrator section set for KFP; package is not run here (no image build). */
function writeProject(dir: string, name: string, extra: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  const config = {
    decorator: { orchestrator: 'KubeflowPipelinesOrchestrator' },
    orchestrator: {
      config: { host: '${KFP_HOST}', token: '${KFP_TOKEN}', experiment: 'churn' },
      deployment: {
        name,
        package: { lolpop_class: 'ChurnRunner', lolpop_module: 'churn_runner', config_file: 'churn.yaml', docker_image_tag: IMAGE },
        deploy: { resources: { cpu: { request: '500m', limit: '2' }, memory: '1Gi', node_selector: { pool: 'cpu' } }, ...extra },
        run: { parameters: { threshold: 0.5 } },
      },
    },
  };
  writeFileSync(path.join(dir, 'lolpop.yaml'), stringify(config));
  // The checkout the image was built from (package ran earlier): the pre-deploy check finds
  // the runner's files where the config names them.
  writeFileSync(path.join(dir, 'churn.yaml'), 'rows: 10\n');
  writeFileSync(path.join(dir, 'churn_runner.py'), 'class ChurnRunner: ...\n');
}

describe('KubeflowPipelinesOrchestrator against the OpenAPI-strict KFP stand-in', () => {
  let standIn: KfpStandIn;
  let host: string;
  beforeAll(async () => {
    standIn = new KfpStandIn({ token: TOKEN });
    host = await standIn.start();
  });
  afterAll(async () => {
    expect(standIn.standInBugs).toEqual([]);
    await standIn.close();
  });

  it('refuses what the description does not allow: an unknown body field, an unknown query parameter, a missing token', async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const unknownField = await fetch(`${host}/apis/v2beta1/experiments`, { method: 'POST', headers, body: JSON.stringify({ display_name: 'x', displayNam: 'y' }) });
    expect(unknownField.status).toBe(400);
    expect(await unknownField.text()).toContain("must NOT have additional properties 'displayNam'");
    const unknownQuery = await fetch(`${host}/apis/v2beta1/runs?experimentid=1`, { headers });
    expect(unknownQuery.status).toBe(400);
    expect((await fetch(`${host}/apis/v2beta1/runs`)).status).toBe(401);
  });

  it('the real kfp.Client 2.17.3 uploads our IR, runs it, waits for SUCCEEDED and FAILED, terminates to CANCELED: the stand-in is honest', { skip: !PYTHON }, async () => {
    const ir = path.join(tempDir('kfp-sdk'), 'churn.yaml');
    writeFileSync(ir, buildPipelineIr(kfpDeployment('churn', { lolpop_class: 'ChurnRunner' }, { resources: { cpu: '1', node_selector: { pool: 'cpu' } } })).text);
    const home = tempDir('kfp-home');
    const before = standIn.requests.length;
    // kfp.Client prints links as it goes: the script's answer is its last line.
    const out = await kfpPythonAsync(PYTHON!, [path.join(ROOT, 'test/kubeflow/kfp/drive_stand_in.py'), host, TOKEN, ir], { env: { HOME: home } });
    const seen = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, string>;
    expect(seen).toMatchObject({ succeeded: 'SUCCEEDED', failed: 'FAILED', terminated: 'CANCELED', found_pipeline_id: seen.pipeline_id });
    const sdkRequests = standIn.requests.slice(before);
    expect(sdkRequests.filter((r) => r.status >= 400)).toEqual([]);
    // The same operations our client uses, as the SDK sends them.
    const ops = new Set(sdkRequests.map((r) => r.operation));
    for (const op of ['UploadPipeline', 'UploadPipelineVersion', 'RunService_CreateRun', 'RunService_GetRun', 'RunService_TerminateRun', 'ExperimentService_CreateExperiment']) expect(ops).toContain(op);
    expect(sdkRequests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('dist/index.js under Node 24: deploy creates the pipeline and a version once, run and wait reach SUCCEEDED; a retried step finds its run; outputs carry the UI links', { skip: !NODE24 }, async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    const dir = tempDir('kfp-action');
    const name = `churn-action-${randomUUID().slice(0, 6)}`;
    writeProject(dir, name);
    const env = { KFP_HOST: host, KFP_TOKEN: TOKEN, GITHUB_REPOSITORY: 'acme/churn', GITHUB_RUN_ID: randomUUID(), GITHUB_RUN_ATTEMPT: '1', GITHUB_EVENT_NAME: 'workflow_dispatch' };
    const inputs = { comment: 'never', config: 'lolpop.yaml', steps: 'deploy,run', wait: 'true', 'wait-timeout': '60s' };
    const first = await runBundledAction({ node: NODE24!, cwd: dir, inputs, env });
    expect(first.status, first.log).toBe(0);
    expect(first.outputs['run-state']).toBe('COMPLETED');
    expect(first.outputs['run-url']).toMatch(new RegExp(`^${host}/#/runs/details/[0-9a-f-]{36}$`));
    expect(first.outputs['deployment-url']).toMatch(new RegExp(`^${host}/#/pipelines/details/[0-9a-f-]{36}/version/[0-9a-f-]{36}$`));
    // Only in the ::add-mask:: command that tells the runner to hide it.
    expect(first.log.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain(TOKEN);
    // The same job again (a retried step of the same attempt): nothing new is created.
    const creates = (): number => standIn.requests.filter((r) => /Create|Upload/.test(r.operation ?? '') && r.status === 200).length;
    const createdBefore = creates();
    const again = await runBundledAction({ node: NODE24!, cwd: dir, inputs, env });
    expect(again.status, again.log).toBe(0);
    expect(creates()).toBe(createdBefore);
    expect(again.outputs['run-url']).toBe(first.outputs['run-url']);
    expect(again.log).toMatch(/Unchanged: pipeline version .* exists already/);
    expect(again.log).toMatch(/already existed for idempotency key/);
    const run = standIn.calls('RunService_CreateRun').at(-1)!;
    expect(run.body).toMatchObject({ runtime_config: { parameters: { params_json: '{"threshold":0.5}' } } });
  });

  it('dist/cli: a failing run fails `up` with the failing task and its error; a schedule becomes a recurring run; stop disables it, terminates runs, deletes versions', async () => {
    expect(existsSync(CLI_BUNDLE), 'dist/cli/index.js must be built (npm run bundle)').toBe(true);
    const dir = tempDir('kfp-cli');
    const name = `churn-cli-${randomUUID().slice(0, 6)}`;
    writeProject(dir, name, { schedule: { cron: '0 0 * * * *' } });
    const env = { KFP_HOST: host, KFP_TOKEN: TOKEN };
    const failed = await runBundledCli(['up', '-c', 'lolpop.yaml', '--steps', 'deploy,run', '--wait', '--wait-timeout', '60s', '--run-kwargs', '{"parameters":{"fail":true}}', '--json'], dir, env);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/KFP run [0-9a-f-]{36} ended FAILED: task 'build_all' failed: ValueError: the churn data has no rows/);
    expect(failed.stderr + failed.stdout).not.toContain(TOKEN);
    const recurring = standIn.calls('RecurringRunService_CreateRecurringRun');
    expect(recurring.at(-1)!.body).toMatchObject({ display_name: `${name}-schedule`, trigger: { cron_schedule: { cron: '0 0 * * * *' } }, mode: 'ENABLE', max_concurrency: '1' });
    // A run left going, then stop: the recurring run deleted, the run terminated, the versions and the pipeline deleted.
    const started = await runBundledCli(['up', '-c', 'lolpop.yaml', '--steps', 'run', '--json'], dir, env);
    expect(started.code, started.stderr).toBe(0);
    const stop = await runBundledCli(['stop', name, '-c', 'lolpop.yaml', '--stop-kwargs', '{"mode":"delete","delete_versions":true}'], dir, env);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout + stop.stderr).toMatch(/deleted the recurring run .*terminated 1 run\(s\).*deleted 1 version\(s\) and the pipeline/);
    expect(standIn.calls('RunService_TerminateRun').length).toBeGreaterThan(0);
    const gone = await fetch(`${host}/apis/v2beta1/pipelines?filter=${encodeURIComponent(JSON.stringify({ predicates: [{ key: 'display_name', operation: 'EQUALS', string_value: name }] }))}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await gone.json()).toEqual({});
  });
});
