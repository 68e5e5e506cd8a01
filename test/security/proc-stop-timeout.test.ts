import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { AirflowApi } from '../../src/orchestrators/airflow/api.js';
import { AirflowClient } from '../../src/orchestrators/airflow/client.js';
import { stopDag } from '../../src/orchestrators/airflow/stop-dag.js';
import { PrefectApi } from '../../src/orchestrators/prefect/api.js';
import { cancelActiveRuns } from '../../src/orchestrators/prefect/cancel-runs.js';
import { PrefectClient } from '../../src/orchestrators/prefect/client.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Prefect stand-in on loopback that accepts the cancel, then never answers a read of the run. */
async function neverFinishesCancelling(): Promise<string> {
  const server = createServer((req, res) => {
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'POST' && req.url === '/api/flow_runs/filter') json([{ id: 'r1', name: 'slow-run', state: { type: 'RUNNING', name: 'Running' } }]);
    else if (req.method === 'POST' && req.url === '/api/flow_runs/r1/set_state') json({ status: 'ACCEPT', state: { type: 'CANCELLING' } });
    // GET /api/flow_runs/r1: the request is read, and never answered.
  });
  return `${await listen(server)}/api`;
}

/** An Airflow 3 stand-in: one running run, marked failed; its task shows running once, then reads are never answered. */
async function airflowNeverFinishesCancelling(): Promise<string> {
  let reads = 0;
  const run = { dag_run_id: 'r1', dag_id: 'd', state: 'running' };
  const server = createServer((req, res) => {
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const url = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && url === '/api/v2/dags/d') json({ dag_id: 'd', is_paused: true, tags: [] });
    else if (req.method === 'GET' && url === '/api/v2/dags/d/dagRuns') json({ dag_runs: [run], total_entries: 1 });
    else if (req.method === 'PATCH' && url === '/api/v2/dags/d/dagRuns/r1') json({ ...run, state: 'failed' });
    else if (url === '/api/v2/dags/d/dagRuns/r1/taskInstances' && reads++ === 0) json({ task_instances: [{ task_id: 't', state: 'running', try_number: 1 }], total_entries: 1 });
    // Later reads of the tasks: never answered.
  });
  return listen(server);
}

describe('proc: stop honours cancel_timeout', () => {
  it('Prefect: cancel_timeout 3 s against a server that never finishes cancelling: done in about 3 s, and says how long it waited', async () => {
    const logger = new MemoryLogger();
    const api = new PrefectApi(new PrefectClient({ apiUrl: await neverFinishesCancelling() }, { logger }));
    const started = Date.now();
    const summary = await cancelActiveRuns(api, 'd1', { logger, timeoutMs: 3000, pollMs: 200 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(4000);
    expect(summary).toEqual({ found: 1, cancelled: 0, finished: 0, cancelling: 1 });
    const warning = logger.lines.find((l) => /still CANCELLING/.test(l)) ?? '';
    const said = Number(/after (\d+\.\d) s/.exec(warning)?.[1]) * 1000;
    expect(warning).toMatch(/1 flow run\(s\) are still CANCELLING after \d+\.\d s \(stop\.cancel_timeout 3\.0 s\)/);
    expect(Math.abs(said - took)).toBeLessThan(300);
  }, 15_000);

  it('Airflow: cancel_timeout 3 s while the task never ends and reads of it hang: done in about 3 s, and says how long it waited', async () => {
    const logger = new MemoryLogger();
    const api = new AirflowApi(new AirflowClient({ baseUrl: await airflowNeverFinishesCancelling(), apiVersion: 'v2', uiUrl: 'http://airflow.test' }, { logger }));
    const started = Date.now();
    const result = await stopDag(api, logger, { dagId: 'd', mode: 'pause', failRuns: true, timeoutMs: 3000, removeFiles: () => false });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(4000);
    expect(result).toEqual({ stopped: true, detail: 'paused DAG d (it already was); marked 1 queued/running run(s) failed (1 task(s) still running)' });
    const warning = logger.lines.find((l) => /still show running/.test(l)) ?? '';
    expect(warning).toMatch(/1 task\(s\) of d still show running after \d+\.\d s \(stop\.cancel_timeout 3\.0 s; raise it, or check the worker\)/);
    const said = Number(/after (\d+\.\d) s/.exec(warning)?.[1]) * 1000;
    expect(Math.abs(said - took)).toBeLessThan(300);
  }, 15_000);
});
