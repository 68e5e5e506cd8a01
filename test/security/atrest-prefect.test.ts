import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/logger.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { runConfig } from '../../src/run-config.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { SECRET, SECRET_FORMS, standInPrefect } from './atrest-stand-ins.js';

// Secrets at rest, PrefectOrchestrator: a `${VAR}` run parameter must not be stored in clear
// as a deployment or flow-run parameter. A stand-in Prefect server on loopback records what
// it is sent; the generated run.py is then called with the flow run's parameters exactly as
// stored, against a stand-in `prefect` whose Secret blocks are the ones the server received.

/** A GitHub checkout: a process pool's worker clones it. */
const GITHUB = ciContext({ serverUrl: 'https://github.com', repository: 'acme/churn', sha: 'a'.repeat(40), shortSha: 'aaaaaaa' });
const FIXTURES = fileURLToPath(new URL('../fixtures/packaging/python', import.meta.url));

let server: Server | undefined;
afterEach(() => server?.close());

async function listen(s: Server): Promise<string> {
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/api`;
}

function project(apiUrl: string, run: string): string {
  const dir = tempDir('atrest-prefect');
  mkdirSync(path.join(dir, 'prefect_files'));
  writeFileSync(path.join(dir, 'prefect_files/dev.yaml'), 'conf: {}\n');
  writeFileSync(
    path.join(dir, 'lolpop.yaml'),
    `decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${apiUrl}"}
  deployment:
    name: churn-model
    type: local
    package: {lolpop_class: QuickstartRunner, lolpop_module: quickstart_runner}
    deploy: {work_pool: pool}
    run:
${run}
`,
  );
  return dir;
}

/** Calls the generated flow of `dir` with `parameters`, Secret.load answering from `blocks`; what the runner got. */
function runGeneratedFlow(dir: string, parameters: unknown, blocks: Record<string, unknown>): unknown {
  const fakes = tempDir('atrest-fakes');
  mkdirSync(path.join(fakes, 'prefect/blocks'), { recursive: true });
  writeFileSync(path.join(fakes, 'prefect/__init__.py'), readFileSync(path.join(FIXTURES, 'prefect.py')));
  writeFileSync(path.join(fakes, 'prefect/blocks/__init__.py'), '');
  writeFileSync(
    path.join(fakes, 'prefect/blocks/system.py'),
    `import json, os\n\nclass Secret:\n    def __init__(self, value):\n        self.value = value\n\n    @classmethod\n    def load(cls, name):\n        return cls(json.loads(os.environ["FAKE_SECRET_BLOCKS"])[name])\n\n    def get(self):\n        return self.value\n`,
  );
  const log = path.join(fakes, 'events.jsonl');
  const call = `import json, runpy; runpy.run_path("prefect_files/run.py")["prefect_entrypoint"](**json.loads(${JSON.stringify(JSON.stringify(parameters))}))`;
  execFileSync('python3', ['-c', call], {
    cwd: dir,
    env: { ...process.env, PYTHONPATH: `${fakes}:${FIXTURES}`, FAKE_PREFECT_LOG: log, FAKE_SECRET_BLOCKS: JSON.stringify(blocks), PYTHONDONTWRITEBYTECODE: '1' },
    stdio: 'pipe',
  });
  const events = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; kwargs?: unknown });
  return events.find((e) => e.event === 'build_all')?.kwargs;
}

describe('secrets at rest: PrefectOrchestrator', () => {
  it('a secret parameter goes to a Secret block; deployment and flow-run parameters hold only its name, and the flow gets the value', async () => {
    const prefect = standInPrefect();
    const apiUrl = await listen(prefect.server);
    const dir = project(apiUrl, '      parameters: {api_key: "${ATREST_API_KEY}", team: ml}\n      secret_parameters: [api_key]');
    const env = { ATREST_API_KEY: SECRET } as NodeJS.ProcessEnv;
    const config = loadConfigSync(path.join(dir, 'lolpop.yaml'), {}, orchestratorLookup, env);
    const logger = new MemoryLogger();
    const result = await runConfig(config, ['package', 'deploy', 'run'], { logger, env, ci: GITHUB, workdir: dir, fetch: globalThis.fetch });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();

    // Only the Secret block documents carry the value; nothing else sent holds it in any form.
    const blockWrites = prefect.received.filter((r) => r.path.startsWith('/block_documents/'));
    expect(blockWrites).toHaveLength(1);
    const others = prefect.received.filter((r) => !blockWrites.includes(r));
    for (const form of SECRET_FORMS) expect(JSON.stringify(others)).not.toContain(form);

    const [blockName, block] = [...prefect.blocks.entries()][0]!;
    expect(blockName).toMatch(/^lolpop-churn-model-api-key-[0-9a-f]{8}$/);
    expect(block.value).toBe(SECRET);
    const deployment = prefect.received.find((r) => r.path === '/deployments/')!.body as { parameters: unknown };
    expect(deployment.parameters).toEqual({ params: {}, lolpop_secret_parameters: { api_key: blockName } });
    const flowRun = prefect.received.find((r) => r.path.endsWith('/create_flow_run'))!.body as { parameters: Record<string, unknown> };
    expect(flowRun.parameters).toEqual({ params: { team: 'ml' }, lolpop_secret_parameters: { api_key: blockName } });

    // The generated flow, called with the flow run's stored parameters, loads the value from its block.
    expect(runGeneratedFlow(dir, flowRun.parameters, { [blockName]: block.value })).toEqual({ team: 'ml', api_key: SECRET });
  }, 30_000);

  it('a user flow (flow_entrypoint) with secret_parameters is refused before anything is sent: it would get block names', async () => {
    const prefect = standInPrefect();
    const apiUrl = await listen(prefect.server);
    const dir = project(apiUrl, '      parameters: {api_key: "${ATREST_API_KEY}"}\n      secret_parameters: [api_key]');
    writeFileSync(path.join(dir, 'lolpop.yaml'), readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8').replace('work_pool: pool', 'work_pool: pool, flow_entrypoint: flows.py:main'));
    const env = { ATREST_API_KEY: SECRET } as NodeJS.ProcessEnv;
    const config = loadConfigSync(path.join(dir, 'lolpop.yaml'), {}, orchestratorLookup, env);
    const result = await runConfig(config, ['deploy', 'run'], { logger: new MemoryLogger(), env, ci: GITHUB, workdir: dir, fetch: globalThis.fetch });
    expect(result.error?.message).toMatch(/run\.secret_parameters \(api_key\): on Prefect .*your own flow flows\.py:main would not/);
    expect(prefect.received.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('secrets at rest: the Prefect plan', () => {
  it('plan (the PR comment, --json) shows the Secret block write with *** and the parameters with block names only', async () => {
    const prefect = standInPrefect();
    const apiUrl = await listen(prefect.server);
    const dir = project(apiUrl, '      parameters: {api_key: "${ATREST_API_KEY}", team: ml}\n      secret_parameters: [api_key]');
    const env = { ATREST_API_KEY: SECRET } as NodeJS.ProcessEnv;
    const config = loadConfigSync(path.join(dir, 'lolpop.yaml'), {}, orchestratorLookup, env);
    const result = await runConfig(config, ['plan'], { logger: new MemoryLogger(), env, ci: GITHUB, workdir: dir, fetch: globalThis.fetch });
    expect(result.error).toBeUndefined();
    const shown = JSON.stringify(result.plan);
    for (const form of SECRET_FORMS) expect(shown).not.toContain(form);
    expect(result.plan!.requests).toContainEqual(expect.objectContaining({ url: `${apiUrl}/block_documents/`, body: { name: expect.stringMatching(/^lolpop-churn-model-api-key-/), data: { value: '***' } } }));
    expect(prefect.received.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('secrets at rest: Prefect stop', () => {
  it('stop with mode delete deletes the Secret blocks with the deployment: the value does not outlive it on the server', async () => {
    const prefect = standInPrefect();
    const apiUrl = await listen(prefect.server);
    const dir = project(apiUrl, '      parameters: {api_key: "${ATREST_API_KEY}", team: ml}\n      secret_parameters: [api_key]');
    const env = { ATREST_API_KEY: SECRET } as NodeJS.ProcessEnv;
    const config = loadConfigSync(path.join(dir, 'lolpop.yaml'), {}, orchestratorLookup, env);
    const deployed = await runConfig(config, ['deploy'], { logger: new MemoryLogger(), env, ci: GITHUB, workdir: dir, fetch: globalThis.fetch });
    expect(deployed.error).toBeUndefined();
    expect(prefect.blocks.size).toBe(1);
    const deleting = { ...config, deployment: { ...config.deployment, stop: { ...config.deployment.stop, mode: 'delete' as const } } };
    const stopped = await runConfig(deleting, ['stop'], { logger: new MemoryLogger(), env, ci: GITHUB, workdir: dir, fetch: globalThis.fetch });
    expect(stopped.error).toBeUndefined();
    expect(stopped.stopped?.detail).toMatch(/deleted deployment .*; deleted Secret block lolpop-churn-model-api-key-[0-9a-f]{8}$/);
    expect(prefect.blocks.size).toBe(0);
  });
});
