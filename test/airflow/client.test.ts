import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryLogger } from '../../src/logger.js';
import { AirflowApi } from '../../src/orchestrators/airflow/api.js';
import { AirflowClient } from '../../src/orchestrators/airflow/client.js';

type Reply = { status: number; body?: unknown };

/** A fetch that answers from a script and records what it was asked. */
function scriptedFetch(replies: Reply[]) {
  const calls: Array<{ method: string; path: string; auth: string | null; body: string }> = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    calls.push({ method: request.method, path: new URL(request.url).pathname, auth: request.headers.get('authorization'), body: await request.text() });
    const reply = replies.shift() ?? { status: 500, body: { detail: 'script exhausted' } };
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), { status: reply.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const connection = { baseUrl: 'http://airflow.test', username: 'ci', password: 's3cret-pw', uiUrl: 'http://airflow.test' };
const DAG = { dag_id: 'd', is_paused: false, tags: [] };

describe('AirflowClient', () => {
  it('logs in with POST /auth/token, sends the JWT, and logs in again once when the token expired', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 201, body: { access_token: 'jwt-1' } },
      { status: 200, body: DAG },
      { status: 401, body: { detail: 'Token Expired' } },
      { status: 201, body: { access_token: 'jwt-2' } },
      { status: 200, body: DAG },
    ]);
    const logger = new MemoryLogger();
    const api = new AirflowApi(new AirflowClient(connection, { fetch, logger }));
    expect((await api.readDag('d'))?.dag_id).toBe('d');
    expect((await api.readDag('d'))?.dag_id).toBe('d');
    expect(calls.map((c) => `${c.method} ${c.path} ${c.auth ?? ''}`)).toEqual([
      'POST /auth/token ',
      'GET /api/v2/dags/d Bearer jwt-1',
      'GET /api/v2/dags/d Bearer jwt-1',
      'POST /auth/token ',
      'GET /api/v2/dags/d Bearer jwt-2',
    ]);
    expect(JSON.parse(calls[0]!.body)).toEqual({ username: 'ci', password: 's3cret-pw' });
    expect(logger.lines.join('\n')).not.toContain('s3cret-pw');
  });

  it('names the request and the status when the credentials are refused', async () => {
    const { fetch } = scriptedFetch([{ status: 401, body: { detail: 'Invalid credentials' } }]);
    const api = new AirflowApi(new AirflowClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.readDag('d')).rejects.toThrow(
      "Failed to read the DAG 'd' (log in as ci): POST /auth/token answered 401: Invalid credentials; check AIRFLOW_USERNAME and AIRFLOW_PASSWORD",
    );
  });

  it('refuses an answer of the wrong shape, in one line naming the request', async () => {
    const { fetch } = scriptedFetch([{ status: 201, body: { access_token: 't' } }, { status: 200, body: { dag_id: 'd', is_paused: 'no' } }]);
    const api = new AirflowApi(new AirflowClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.readDag('d')).rejects.toThrow(/^Failed to read the DAG 'd': GET \/api\/v2\/dags\/d answered 200 with an unexpected body \(is_paused: .*\); is http:\/\/airflow.test an Airflow 3 API server\?$/);
  });

  it('turns a 409 on trigger into "exists" and reads a structured 409 detail otherwise', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 201, body: { access_token: 't' } },
      { status: 409, body: { detail: { reason: 'Unique constraint violation', message: 'Serious error' } } },
      { status: 409, body: { detail: "Task instances of dag with id: 'd' are still running" } },
    ]);
    const api = new AirflowApi(new AirflowClient(connection, { fetch, logger: new MemoryLogger() }));
    expect(await api.triggerRun('d', 'r1', { a: 1 })).toBeUndefined();
    expect(JSON.parse(calls[1]!.body)).toEqual({ dag_run_id: 'r1', logical_date: null, conf: { a: 1 } });
    await expect(api.deleteDag('d')).rejects.toThrow("Failed to delete the DAG 'd': DELETE /api/v2/dags/d answered 409: Task instances of dag with id: 'd' are still running");
  });

  it('without credentials sends no Authorization header (a server with all_admins)', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 200, body: DAG }]);
    const client = new AirflowClient({ baseUrl: 'http://airflow.test', uiUrl: 'http://airflow.test' }, { fetch, logger: new MemoryLogger() });
    await client.request('GET', 'dags/d', { action: 'x', schema: z.unknown() });
    expect(calls[0]!.auth).toBeNull();
  });

  it('retries a 500 (SQLite lock wait) of a PATCH and of a trigger with its own run id, but not of a trigger without one', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 201, body: { access_token: 't' } },
      { status: 500, body: { detail: { reason: 'x', message: 'Serious error' } } },
      { status: 200, body: DAG },
      { status: 500, body: { detail: 'x' } },
      { status: 200, body: { dag_run_id: 'r1', dag_id: 'd', state: 'queued' } },
      { status: 500, body: { detail: { reason: 'x', message: 'Serious error' } } },
    ]);
    const api = new AirflowApi(new AirflowClient(connection, { fetch, logger: new MemoryLogger() }));
    expect((await api.setPaused('d', false)).dag_id).toBe('d');
    expect((await api.triggerRun('d', 'r1', {}))?.dag_run_id).toBe('r1');
    await expect(api.triggerRun('d', null, {})).rejects.toThrow("Failed to trigger a run of the DAG 'd': POST /api/v2/dags/d/dagRuns answered 500: x: Serious error");
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /auth/token',
      'PATCH /api/v2/dags/d',
      'PATCH /api/v2/dags/d',
      'POST /api/v2/dags/d/dagRuns',
      'POST /api/v2/dags/d/dagRuns',
      'POST /api/v2/dags/d/dagRuns',
    ]);
  });
});
