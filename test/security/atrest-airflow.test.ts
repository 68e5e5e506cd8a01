import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/logger.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { runConfig } from '../../src/run-config.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { SECRET, SECRET_FORMS } from './atrest-stand-ins.js';

// Secrets at rest, AirflowOrchestrator: a `${VAR}` run parameter must be neither in the DAG
// file, nor in the release delivered next to it, nor in a run's conf. A stand-in Airflow 2.x
// (/api/v1) on loopback plays the dag-processor (it reads the delivered DAG file's
// fingerprint) and records what it is sent; the delivered release's task is then run as the
// worker would, its environment rendered from the Variables the server received.


const RUNNER_PY = `import json


class TinyRunner:
    def __init__(self, conf, skip_config_validation=False):
        pass

    def build_all(self, **kwargs):
        with open("received.json", "w", encoding="utf-8") as f:
            json.dump(kwargs, f)
`;

interface Received {
  method: string;
  path: string;
  body: unknown;
}

function standInAirflow(dagsFolder: string) {
  const received: Received[] = [];
  const variables = new Map<string, string>();
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as { key: string; value: string; conf?: unknown; dag_run_id?: string }) : undefined;
      const route = (req.url ?? '').replace(/^\/api\/v1\//, '').split('?')[0]!;
      received.push({ method: req.method!, path: route, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const dag = /^dags\/([^/]+)$/.exec(route);
      const variable = /^variables\/([^/]+)$/.exec(route);
      if (dag && req.method === 'GET') {
        // The dag-processor: the DAG as the file in the DAGs folder says.
        const file = path.join(dagsFolder, dag[1]!, `${dag[1]}.py`);
        if (!existsSync(file)) return json(404, { title: 'DAG not found' });
        const fingerprint = /^FINGERPRINT = "([0-9a-f]+)"$/m.exec(readFileSync(file, 'utf8'))![1];
        return json(200, { dag_id: dag[1], is_paused: false, is_active: true, tags: [{ name: `lolpop-deploy:${fingerprint}` }] });
      }
      if (dag && req.method === 'PATCH') return json(200, { dag_id: dag[1], is_paused: true, tags: [] });
      if (dag && req.method === 'DELETE') return void res.writeHead(204).end();
      if (/^dags\/[^/]+\/dagRuns$/.test(route) && req.method === 'GET') return json(200, { dag_runs: [], total_entries: 0 });
      if (variable && req.method === 'DELETE') {
        const existed = variables.delete(decodeURIComponent(variable[1]!));
        return existed ? void res.writeHead(204).end() : json(404, { title: 'Variable not found' });
      }
      if (route === 'dags') return json(200, { dags: [], total_entries: 0 });
      if (route === 'importErrors') return json(200, { import_errors: [], total_entries: 0 });
      if (variable && req.method === 'PATCH') {
        if (!variables.has(decodeURIComponent(variable[1]!))) return json(404, { title: 'Variable not found' });
        variables.set(body!.key, body!.value);
        return json(200, body);
      }
      if (route === 'variables' && req.method === 'POST') {
        variables.set(body!.key, body!.value);
        return json(200, body);
      }
      const runs = /^dags\/([^/]+)\/dagRuns$/.exec(route);
      if (runs && req.method === 'POST') return json(200, { dag_run_id: 'manual-1', dag_id: runs[1], state: 'queued', conf: body!.conf });
      json(404, { title: `no route ${req.method} ${route}` });
    });
  });
  return { server, received, variables };
}

let server: Server | undefined;
afterEach(() => server?.close());

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

/** A workflow with a secret parameter, its DAGs folder and a stand-in Airflow 2.x serving it. */
async function airflowProject() {
  const dir = tempDir('atrest-airflow');
  const dagsFolder = path.join(dir, 'dags');
  mkdirSync(dagsFolder);
  const airflow = standInAirflow(dagsFolder);
  server = airflow.server;
  await new Promise<void>((resolve) => airflow.server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(airflow.server.address() as AddressInfo).port}/api/v1`;
  writeFileSync(path.join(dir, 'tiny_runner.py'), RUNNER_PY);
  writeFileSync(
    path.join(dir, 'lolpop.yaml'),
    `orchestrator:
  config: {dags_folder: dags, parse_timeout: 10s}
  deployment:
    name: churn-model
    type: local
    package: {lolpop_class: TinyRunner, lolpop_module: tiny_runner, package_type: none, config_file: lolpop.yaml, copy_files: [tiny_runner.py]}
    run:
      parameters: {api_key: "\${ATREST_API_KEY}", team: ml}
      secret_parameters: [api_key]
`,
  );
  const env = { PATH: process.env.PATH, AIRFLOW_API_URL: url, AIRFLOW_USERNAME: 'admin', AIRFLOW_PASSWORD: 'pw', ATREST_API_KEY: SECRET } as NodeJS.ProcessEnv;
  const config = loadConfigSync(path.join(dir, 'lolpop.yaml'), { orchestrator: { name: 'AirflowOrchestrator', label: 'input orchestrator' } }, orchestratorLookup, env);
  return { dir, dagsFolder, airflow, env, config };
}

describe('secrets at rest: AirflowOrchestrator', () => {
  it('a secret parameter goes to an Airflow Variable; the DAG file, the release and the conf hold only its key, and the task gets the value', async () => {
    const { dir, dagsFolder, airflow, config, env } = await airflowProject();
    const logger = new MemoryLogger();
    const result = await runConfig(config, ['package', 'deploy', 'run'], { logger, env, ci: ciContext(), workdir: dir, fetch: globalThis.fetch });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();

    // The Variable holds the value under a key Airflow masks; nothing else sent holds it.
    expect([...airflow.variables.entries()]).toEqual([[expect.stringMatching(/^lolpop_secret__churn-model__api_key__[0-9a-f]{8}$/), SECRET]]);
    const [key] = [...airflow.variables.keys()];
    const others = airflow.received.filter((r) => !r.path.startsWith('variables'));
    for (const form of SECRET_FORMS) expect(JSON.stringify(others)).not.toContain(form);
    expect(others.find((r) => r.path.endsWith('/dagRuns'))!.body).toMatchObject({ conf: { team: 'ml' } });

    // Nothing written at rest holds it: the reviewed DAG file, the delivered DAG file and release.
    const written = [...filesUnder(dagsFolder), ...filesUnder(path.join(dir, 'prefect_files'))];
    for (const file of written) for (const form of SECRET_FORMS) expect(readFileSync(file, 'utf8'), file).not.toContain(form);
    const dagFile = readFileSync(path.join(dagsFolder, 'churn-model', 'churn-model.py'), 'utf8');
    expect(dagFile).toContain(`"LOLPOP_DEPLOY_SECRET_0": "{{ var.value.get('${key}') }}",`);

    // The task as the worker runs it: the environment Airflow renders from the Variable, the conf of the run.
    const release = path.dirname(written.find((f) => f.endsWith('run_task.py'))!);
    execFileSync('python3', [path.join(release, 'run_task.py')], {
      cwd: release,
      env: { PATH: process.env.PATH, LOLPOP_DEPLOY_CONF: JSON.stringify({ team: 'ml' }), LOLPOP_DEPLOY_SECRET_0: airflow.variables.get(key!)!, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: 'pipe',
    });
    expect(JSON.parse(readFileSync(path.join(release, 'workflow', 'received.json'), 'utf8'))).toEqual({ team: 'ml', api_key: SECRET });
  }, 30_000);

  it('stop with mode delete deletes the Variables with the DAG: the value does not outlive it on the server', async () => {
    const { dir, airflow, config, env } = await airflowProject();
    const deployed = await runConfig(config, ['deploy'], { logger: new MemoryLogger(), env, ci: ciContext(), workdir: dir, fetch: globalThis.fetch });
    expect(deployed.error).toBeUndefined();
    expect(airflow.variables.size).toBe(1);
    const deleting = { ...config, deployment: { ...config.deployment, stop: { ...config.deployment.stop, mode: 'delete' as const, cancel_timeout: 2000 } } };
    const stopped = await runConfig(deleting, ['stop'], { logger: new MemoryLogger(), env, ci: ciContext(), workdir: dir, fetch: globalThis.fetch });
    expect(stopped.error).toBeUndefined();
    expect(stopped.stopped?.detail).toMatch(/; deleted Variable lolpop_secret__churn-model__api_key__[0-9a-f]{8}$/);
    expect(airflow.variables.size).toBe(0);
  }, 30_000);

  it('plan (the PR comment, --json) shows the Variable write with *** and holds the value nowhere', async () => {
    const { dir, config, env, airflow } = await airflowProject();
    const result = await runConfig(config, ['plan'], { logger: new MemoryLogger(), env, ci: ciContext(), workdir: dir, fetch: globalThis.fetch });
    expect(result.error).toBeUndefined();
    const shown = JSON.stringify(result.plan);
    for (const form of SECRET_FORMS) expect(shown).not.toContain(form);
    expect(result.plan!.requests).toContainEqual({
      method: 'PATCH',
      url: expect.stringMatching(/\/api\/v1\/variables\/lolpop_secret__churn-model__api_key__[0-9a-f]{8}$/),
      body: { key: expect.stringMatching(/^lolpop_secret__/), value: '***' },
    });
    expect(airflow.received.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
