import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { RunEndedError, RunFailedError } from '../../src/errors.js';
import { ProcessExec } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';
import { LocalConfig } from '../../src/orchestrators/local/config.js';
import { LocalOrchestrator } from '../../src/orchestrators/local/orchestrator.js';
import type { OrchestratorContext } from '../../src/orchestrators/orchestrator.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { ciContext } from '../helpers/services.js';
import { copyExample } from './example.js';
import { requestsOf } from '../helpers/requests.js';

function setUp(env: NodeJS.ProcessEnv = process.env, ci = ciContext()) {
  const dir = copyExample('quickstart');
  const configFile = path.join(dir, 'lolpop.yaml');
  const config = loadConfigSync(configFile, {}, orchestratorLookup, env);
  const logger = new MemoryLogger();
  const ctx: OrchestratorContext = { logger, exec: new ProcessExec(), fetch: globalThis.fetch, env, ci, workdir: dir, configFile };
  const orchestrator = new LocalOrchestrator(LocalConfig.parse(config.orchestratorConfig), ctx);
  const d = config.deployment;
  const runRequest = (parameters: Record<string, unknown> = {}, idempotency_key?: string) =>
    requestsOf(config, { run: { ...d.run, parameters, ...(idempotency_key ? { idempotency_key } : {}) } }, ci).run();
  const deploy = () => orchestrator.deploy(requestsOf(config, {}, ci).deploy());
  const wait = (run: Awaited<ReturnType<typeof orchestrator.run>>) => orchestrator.wait({ run, timeoutMs: 5000, pollMs: 50 });
  return { dir, config, ci, logger, orchestrator, d, runRequest, deploy, wait };
}

function runDir(url: string): string {
  return path.dirname(fileURLToPath(url));
}

describe('LocalOrchestrator on examples/quickstart (real python3)', () => {
  it('package writes the entrypoint and Dockerfile, and builds no image without a tag', async () => {
    const { dir, orchestrator, config } = setUp();
    const packaged = await orchestrator.package(requestsOf(config).package());
    expect(packaged.files).toEqual(expect.arrayContaining(['prefect_files/run.py', 'Dockerfile']));
    expect(packaged.image).toBeUndefined();
    expect(readFileSync(path.join(dir, 'prefect_files/run.py'), 'utf8')).toContain('from quickstart_runner import QuickstartRunner');
  });

  it('deploy records the deployment; a second deploy updates it in place', async () => {
    const { dir, deploy } = setUp();
    const first = await deploy();
    const file = path.join(dir, '.lolpop-deploy/deployments/quickstart.json');
    expect(first).toMatchObject({ name: 'quickstart', url: `file://${file}` });
    const record = JSON.parse(readFileSync(file, 'utf8'));
    expect(record).toMatchObject({
      id: first.id,
      name: 'quickstart',
      entrypoint: 'prefect_files/run.py:prefect_entrypoint',
      parameters: {},
      package: { lolpop_class: 'QuickstartRunner', lolpop_module: 'quickstart_runner', config_file: 'dev.yaml' },
    });
    const second = await deploy();
    expect(second.id).toBe(first.id);
    expect(JSON.parse(readFileSync(file, 'utf8')).created).toBe(record.created);
  });

  it('run executes the workflow to COMPLETED, streams and keeps its log, writes the report', async () => {
    const { logger, deploy, runRequest, orchestrator, wait } = setUp();
    await deploy();
    const run = await orchestrator.run(runRequest());
    expect(run).toMatchObject({ state: 'COMPLETED', created: true });
    expect(run.url).toMatch(/^file:\/\/.*\/\.lolpop-deploy\/runs\/[^/]+\/report\.html$/);
    // Each line reached the logger as the process printed it, before the run's final line.
    const evaluated = logger.lines.findIndex((l) => /^info: \[[\d:]+\] Evaluated on 16 rows: accuracy/.test(l));
    const finished = logger.lines.findIndex((l) => l.startsWith(`info: Run ${run.id} COMPLETED`));
    expect(evaluated).toBeGreaterThan(-1);
    expect(evaluated).toBeLessThan(finished);
    const dir = runDir(run.url);
    const record = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));
    expect(record).toMatchObject({ id: run.id, deployment: 'quickstart', state: 'COMPLETED', exitCode: 0 });
    expect(record.durationMs).toBeGreaterThanOrEqual(0);
    const log = readFileSync(path.join(dir, 'log.txt'), 'utf8');
    expect(log).toMatch(/Read 40 rows from train\.csv/);
    expect(log).toMatch(/Workflow completed!/);
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('COMPLETED');
    expect(html).toContain('Workflow completed!');
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(await wait(run)).toMatchObject({ id: run.id, state: 'COMPLETED' });
  });

  it('passes run parameters over the deployment’s to the entrypoint, as JSON', async () => {
    const { deploy, runRequest, orchestrator } = setUp();
    await deploy();
    const run = await orchestrator.run(runRequest({ min_accuracy: 0.5, note: 'it\'s "quoted"' }));
    const log = readFileSync(path.join(runDir(run.url), 'log.txt'), 'utf8');
    expect(log).toContain('Ignoring unknown parameters: note');
    expect(log).toContain('Model accepted (accuracy 1.000 >= 0.500)');
  });

  it('a failing workflow ends FAILED; wait throws RunFailedError naming the last log line', async () => {
    const { deploy, runRequest, orchestrator, wait } = setUp();
    await deploy();
    const run = await orchestrator.run(runRequest({ min_accuracy: 1.5 }));
    expect(run.state).toBe('FAILED');
    const error = await wait(run).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    const message = (error as Error).message;
    expect(message.split('\n')[0]).toMatch(/ended FAILED \(exit code 1\): RuntimeError: accuracy 1\.000 is below min_accuracy 1\.500$/);
    expect(message).toContain(`Report: ${run.url}`);
    expect(error).toBeInstanceOf(RunEndedError);
    expect((error as RunEndedError).result.state).toBe('FAILED');
    const html = readFileSync(path.join(runDir(run.url), 'report.html'), 'utf8');
    expect(html).toContain('FAILED');
    expect(html).toContain('class="err"');
  });

  it('the same idempotency key returns the earlier run without executing again', async () => {
    const { deploy, runRequest, orchestrator, logger } = setUp();
    await deploy();
    const first = await orchestrator.run(runRequest({}, 'key-1'));
    const runsBefore = logger.lines.filter((l) => l.includes('Starting build_all')).length;
    const again = await orchestrator.run(runRequest({}, 'key-1'));
    expect(again).toEqual({ ...first, created: false });
    expect(logger.lines.filter((l) => l.includes('Starting build_all')).length).toBe(runsBefore);
    const other = await orchestrator.run(runRequest({}, 'key-2'));
    expect(other.id).not.toBe(first.id);
  });

  it('uses the GitHub run attempt as the default idempotency key', async () => {
    const { deploy, runRequest, orchestrator } = setUp(process.env, ciContext({ repository: 'acme/qs', runId: '42', runAttempt: '1' }));
    await deploy();
    const first = await orchestrator.run(runRequest());
    const again = await orchestrator.run(runRequest());
    expect(again).toMatchObject({ id: first.id, created: false });
    const record = JSON.parse(readFileSync(path.join(runDir(first.url), 'run.json'), 'utf8'));
    expect(record.idempotencyKey).toBe('lolpop-deploy/acme/qs/42/1/quickstart');
  });

  it('run before deploy says to deploy first', async () => {
    const { runRequest, orchestrator } = setUp();
    await expect(orchestrator.run(runRequest())).rejects.toThrow(/deployment 'quickstart' is not recorded .*run the deploy step first/);
  });

  it('a missing Python is one clear error', async () => {
    const { deploy, runRequest, orchestrator } = setUp({ ...process.env, PYTHON: '/nonexistent/python3' });
    await deploy();
    await expect(orchestrator.run(runRequest())).rejects.toThrow(/cannot start Python '\/nonexistent\/python3'.*set PYTHON/);
  });

  it('stop removes the deployment; stopping it again reports nothing to stop', async () => {
    const { dir, deploy, orchestrator, config } = setUp();
    await deploy();
    const request = requestsOf(config).stop();
    const stopped = await orchestrator.stop(request);
    expect(stopped.stopped).toBe(true);
    expect(existsSync(path.join(dir, '.lolpop-deploy/deployments/quickstart.json'))).toBe(false);
    expect(await orchestrator.stop(request)).toMatchObject({ stopped: false, detail: expect.stringMatching(/not recorded.*nothing to stop/) });
  });

  it('runs the user’s own flow_entrypoint function without Prefect', async () => {
    const { dir, config, orchestrator, d } = setUp();
    writeFileSync(path.join(dir, 'my_flow.py'), 'def train(rows=1):\n    print("training on %d rows" % rows)\n');
    const pkg = { ...d.package, flow_entrypoint: 'my_flow.py:train' };
    await orchestrator.deploy(requestsOf(config, { name: 'own', package: pkg }).deploy());
    const run = await orchestrator.run(requestsOf(config, { name: 'own', package: pkg, run: { ...d.run, parameters: { rows: 3 } } }).run());
    expect(run.state).toBe('COMPLETED');
    expect(readFileSync(path.join(runDir(run.url), 'log.txt'), 'utf8')).toContain('training on 3 rows');
  });
});
