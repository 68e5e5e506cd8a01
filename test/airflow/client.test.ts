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

// The URL names the API (…/api/v2): no version probe in these exchanges.
const connection = { baseUrl: 'http://airflow.test', apiVersion: 'v2' as const, username: 'ci', password: 's3cret-pw', uiUrl: 'http://airflow.test' };
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
      "Failed to read the DAG 'd' (log in as ci): the Airflow API at http://airflow.test refused the credentials (401: Invalid credentials); check AIRFLOW_USERNAME and AIRFLOW_PASSWORD (the user needs the op or admin role)",
    );
  });

  it('refuses an answer of the wrong shape, in one line naming the request', async () => {
    const { fetch } = scriptedFetch([{ status: 201, body: { access_token: 't' } }, { status: 200, body: { dag_id: 'd', is_paused: 'no' } }]);
    const api = new AirflowApi(new AirflowClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.readDag('d')).rejects.toThrow(
      /^Failed to read the DAG 'd': Airflow answered 200 to GET \/api\/v2\/dags\/d with an unexpected body \(is_paused: expected a boolean, got a string\): \{"dag_id":"d","is_paused":"no"\}$/,
    );
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
    await expect(api.deleteDag('d')).rejects.toThrow("Failed to delete the DAG 'd': Airflow answered 409: Task instances of dag with id: 'd' are still running (DELETE /api/v2/dags/d)");
  });

  it('without credentials sends no Authorization header (a server with all_admins)', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 200, body: DAG }]);
    const client = new AirflowClient({ baseUrl: 'http://airflow.test', apiVersion: 'v2', uiUrl: 'http://airflow.test' }, { fetch, logger: new MemoryLogger() });
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
    const api = new AirflowApi(new AirflowClient(connection, { fetch, logger: new MemoryLogger(), backoffLimitMs: 10 }));
    expect((await api.setPaused('d', false)).dag_id).toBe('d');
    expect((await api.triggerRun('d', 'r1', {}))?.dag_run_id).toBe('r1');
    await expect(api.triggerRun('d', null, {})).rejects.toThrow("Failed to trigger a run of the DAG 'd': Airflow answered 500: x: Serious error (POST /api/v2/dags/d/dagRuns)");
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

describe('AirflowClient: bounded, on the shared HTTP layer', () => {
  const never = (() => new Promise<Response>(() => undefined)) as typeof globalThis.fetch;
  const noAuth = { baseUrl: 'http://airflow.test', apiVersion: 'v2' as const, uiUrl: 'http://airflow.test' };

  it('a server that never answers fails within request_timeout (the budget), saying it hung', async () => {
    let tries = 0;
    const fetch = ((...args: Parameters<typeof globalThis.fetch>) => {
      tries += 1;
      return never(...args);
    }) as typeof globalThis.fetch;
    const started = Date.now();
    const api = new AirflowApi(new AirflowClient(noAuth, { fetch, logger: new MemoryLogger(), timeoutMs: 600, backoffLimitMs: 10 }));
    await expect(api.readDag('d')).rejects.toThrow(
      /^Failed to read the DAG 'd': the Airflow API at http:\/\/airflow\.test hung: GET \/api\/v2\/dags\/d did not answer in 0\.3 s \(2 tries in 0\.6 s\)$/,
    );
    expect(tries).toBe(2);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('a body that stops is reported as hung', async () => {
    const fetch = (async () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"dag_id":'));
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      )) as typeof globalThis.fetch;
    const api = new AirflowApi(new AirflowClient(noAuth, { fetch, logger: new MemoryLogger(), bodyTimeoutMs: 200, transportRetries: 0 }));
    await expect(api.readDag('d')).rejects.toThrow(
      "Failed to read the DAG 'd': the Airflow API at http://airflow.test hung: the answer to GET /api/v2/dags/d stopped for 0.2 s before its end",
    );
  });

  it('retries a 503 and honours Retry-After; a Retry-After beyond the cap fails at once', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 503, body: { detail: 'busy' } }, { status: 200, body: DAG }]);
    const api = new AirflowApi(new AirflowClient(noAuth, { fetch, logger: new MemoryLogger(), backoffLimitMs: 10 }));
    expect((await api.readDag('d'))?.dag_id).toBe('d');
    expect(calls).toHaveLength(2);
    const slow = (async () => new Response('{"detail":"slow down"}', { status: 429, headers: { 'retry-after': '600' } })) as typeof globalThis.fetch;
    const limited = new AirflowApi(new AirflowClient(noAuth, { fetch: slow, logger: new MemoryLogger() }));
    await expect(limited.readDag('d')).rejects.toThrow(
      "Failed to read the DAG 'd': Airflow answered 429 to GET /api/v2/dags/d and asked to wait 600 s (Retry-After), more than the 30 s this tool waits; try again later",
    );
  });

  it('an HTML page says which setting to check; a refused connection is "cannot reach"', async () => {
    const html = (async () => new Response('<!DOCTYPE html><title>Login</title>', { status: 200, headers: { 'content-type': 'text/html' } })) as typeof globalThis.fetch;
    await expect(new AirflowApi(new AirflowClient(noAuth, { fetch: html, logger: new MemoryLogger() })).readDag('d')).rejects.toThrow(
      "Failed to read the DAG 'd': Airflow answered 200 to GET /api/v2/dags/d with HTML, not JSON (<!DOCTYPE html><title>Login</title>); is AIRFLOW_API_URL the API server's root (e.g. http://airflow.internal:8080), not a page of another site?",
    );
    const refused = (async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    }) as typeof globalThis.fetch;
    await expect(new AirflowApi(new AirflowClient(noAuth, { fetch: refused, logger: new MemoryLogger(), backoffLimitMs: 10 })).readDag('d')).rejects.toThrow(
      "Failed to read the DAG 'd': cannot reach the Airflow API at http://airflow.test (ECONNREFUSED)",
    );
  });

  it('requests that need a token at the same time share one login', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 201, body: { access_token: 't' } },
      { status: 200, body: DAG },
      { status: 200, body: DAG },
    ]);
    const api = new AirflowApi(new AirflowClient(connection, { fetch, logger: new MemoryLogger() }));
    await Promise.all([api.readDag('d'), api.readDag('d')]);
    expect(calls.filter((c) => c.path === '/auth/token')).toHaveLength(1);
  });
});

describe('AirflowClient on an Airflow 2.x server', () => {
  const unnamed = { baseUrl: 'http://airflow.test', username: 'ci', password: 's3cret-pw', uiUrl: 'http://airflow.test' };

  it('asks once which API the server has (404 on /api/v2 is Airflow 2), then speaks /api/v1 with basic auth', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 404, body: { detail: 'Not Found' } },
      { status: 200, body: { ...DAG, is_active: false } },
      { status: 200, body: DAG },
    ]);
    const logger = new MemoryLogger();
    const api = new AirflowApi(new AirflowClient(unnamed, { fetch, logger }));
    expect(await api.readDag('d')).toMatchObject({ dag_id: 'd', is_stale: true });
    expect(await api.readDag('d')).toMatchObject({ is_stale: undefined });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /api/v2/version', 'GET /api/v1/dags/d', 'GET /api/v1/dags/d']);
    expect(calls[1]!.auth).toBe(`Basic ${Buffer.from('ci:s3cret-pw').toString('base64')}`);
    expect(logger.secrets).toContain(Buffer.from('ci:s3cret-pw').toString('base64')); // masked wherever it would be logged
  });

  it("an Airflow 3 answer to the probe (200, or 401) keeps /api/v2; a URL ending in /api/v1 asks nothing", async () => {
    const three = scriptedFetch([{ status: 200, body: { version: '3.3.2' } }]);
    expect(await new AirflowClient(unnamed, { fetch: three.fetch, logger: new MemoryLogger() }).apiVersion()).toBe('v2');
    const named = scriptedFetch([{ status: 200, body: DAG }]);
    await new AirflowApi(new AirflowClient({ ...unnamed, apiVersion: 'v1' }, { fetch: named.fetch, logger: new MemoryLogger() })).readDag('d');
    expect(named.calls.map((c) => c.path)).toEqual(['/api/v1/dags/d']);
  });

  it('the workflows of one step ask a server for its API once (the shared map)', async () => {
    const shared = new Map<string, unknown>();
    const { fetch, calls } = scriptedFetch([{ status: 404 }, { status: 200, body: DAG }, { status: 200, body: DAG }]);
    await new AirflowApi(new AirflowClient(unnamed, { fetch, logger: new MemoryLogger(), shared })).readDag('d');
    await new AirflowApi(new AirflowClient(unnamed, { fetch, logger: new MemoryLogger(), shared })).readDag('d');
    expect(calls.map((c) => c.path)).toEqual(['/api/v2/version', '/api/v1/dags/d', '/api/v1/dags/d']);
  });

  it("reads Airflow 2's unfiltered import errors and keeps the file's, named by its absolute path", async () => {
    const errors = [
      { filename: '/opt/airflow/dags/other/other.py', timestamp: '2026-12-01T00:00:00Z', stack_trace: 'x' },
      { filename: '/opt/airflow/dags/d/d.py', timestamp: '2026-12-01T00:00:01Z', stack_trace: 'NameError: y' },
    ];
    const { fetch, calls } = scriptedFetch([{ status: 200, body: { import_errors: errors, total_entries: 2 } }]);
    const api = new AirflowApi(new AirflowClient({ ...unnamed, apiVersion: 'v1' }, { fetch, logger: new MemoryLogger() }));
    expect((await api.importErrors('d/d.py')).map((e) => e.stack_trace)).toEqual(['NameError: y']);
    expect(calls[0]!.path).toBe('/api/v1/importErrors');
  });
});
