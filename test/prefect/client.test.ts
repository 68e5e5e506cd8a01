import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { OrchestratorError } from '../../src/errors.js';
import { PrefectApi } from '../../src/orchestrators/prefect/api.js';
import { PrefectClient } from '../../src/orchestrators/prefect/client.js';
import { resolveConnection } from '../../src/orchestrators/prefect/connection.js';
import { FlowIdSchema, IgnoredSchema } from '../../src/orchestrators/prefect/schemas.js';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/** A fetch that answers from a script and records what it was asked. */
function scriptedFetch(replies: Reply[]) {
  const calls: Array<{ method: string; url: string; headers: Headers; body: string }> = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    calls.push({ method: request.method, url: request.url, headers: request.headers, body: await request.text() });
    const reply = replies.shift() ?? { status: 500, body: { detail: 'script exhausted' } };
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const connection = { apiUrl: 'http://prefect.test/api' };

describe('PrefectClient', () => {
  it('retries 429 after the Retry-After seconds, then succeeds', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 429, headers: { 'retry-after': '1' } }, { status: 200, body: '3.8.8' }]);
    const started = Date.now();
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    expect(await client.serverVersion()).toBe('3.8.8');
    expect(calls).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('retries 502 and 503 with backoff, up to the limit, then says what failed', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 502 }, { status: 503 }, { status: 503 }]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger(), retries: 2, backoffLimitMs: 10 });
    await expect(client.serverVersion()).rejects.toThrow(/^Failed to read the server version: Prefect answered 503 \(GET \/admin\/version, 3 tries in [\d.]+ s\)$/);
    expect(calls).toHaveLength(3);
  });

  it('does not retry a 422 and shows the validation detail in one line', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 422, body: { exception_message: 'Invalid request received.', exception_detail: [{ loc: ['body', 'infra_overrides'], msg: 'Extra inputs are not permitted' }] } },
    ]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await expect(client.request('POST', 'deployments/', { json: {}, action: "create the deployment 'x'", schema: IgnoredSchema })).rejects.toThrow(
      "Failed to create the deployment 'x': Prefect answered 422: Invalid request received. (infra_overrides: Extra inputs are not permitted)",
    );
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual(['POST /api/deployments/']);
  });

  it('sends the key as Bearer, JSON bodies, and logs method, path, status and time but never the key', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 201, body: { id: 'f1' } }]);
    const logger = new MemoryLogger();
    const client = new PrefectClient({ ...connection, apiKey: 'pnu_secret' }, { fetch, logger });
    const res = await client.request('POST', 'flows/', { json: { name: 'hello' }, action: 'register the flow', schema: FlowIdSchema });
    expect(res).toEqual({ status: 201, body: { id: 'f1' } });
    expect(calls[0]!.headers.get('authorization')).toBe('Bearer pnu_secret');
    expect(calls[0]!.headers.get('content-type')).toMatch(/application\/json/);
    expect(calls[0]!.body).toBe('{"name":"hello"}');
    expect(logger.lines).toContainEqual(expect.stringMatching(/^debug: prefect: POST \/api\/flows\/ → 201 \(\d+ ms\)$/));
    expect(logger.lines.join('\n')).not.toContain('pnu_secret');
  });

  it('sends writes without a CSRF token; on a 403 about CSRF fetches one once, repeats the write, and later writes carry it', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 403, body: { detail: 'Missing CSRF token.' } },
      { status: 200, body: { token: 'tok', expiration: '2099-01-01T00:00:00Z' } },
      { status: 201, body: { id: 'f1' } },
      { status: 200, body: { id: 'f1' } },
      { status: 200, body: '3.4.1' },
    ]);
    const client = new PrefectClient({ ...connection, authString: 'u:p' }, { fetch, logger: new MemoryLogger() });
    await client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow', schema: FlowIdSchema });
    await client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow', schema: FlowIdSchema });
    await client.serverVersion();
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname} ${c.headers.get('prefect-csrf-token') ?? '-'}`)).toEqual([
      'POST /api/flows/ -',
      'GET /api/csrf-token -',
      'POST /api/flows/ tok',
      'POST /api/flows/ tok',
      'GET /api/admin/version -',
    ]);
    const client1 = new URL(calls[1]!.url).searchParams.get('client');
    expect(client1).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls[2]!.headers.get('prefect-csrf-client')).toBe(client1);
    for (const call of calls) expect(call.headers.get('authorization')).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('a server without CSRF protection is never asked for a token', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 201, body: { id: 'f1' } }, { status: 200, body: { id: 'f1' } }]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow', schema: FlowIdSchema });
    await client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow', schema: FlowIdSchema });
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual(['POST /api/flows/', 'POST /api/flows/']);
  });

  it('fetches a new CSRF token once when the server says the one it has is invalid (expired)', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 403, body: { detail: 'Missing CSRF token.' } },
      { status: 200, body: { token: 'old' } },
      { status: 201, body: { id: 'f1' } },
      { status: 403, body: { detail: 'Invalid CSRF token or client identifier.' } },
      { status: 200, body: { token: 'new' } },
      { status: 201, body: { id: 'f1' } },
    ]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow', schema: FlowIdSchema });
    await client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow', schema: FlowIdSchema });
    expect(calls.map((c) => c.headers.get('prefect-csrf-token'))).toEqual([null, null, 'old', 'old', null, 'new']);
  });

  it('writes refused at the same time share one token request', async () => {
    let tokens = 0;
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname.endsWith('/csrf-token')) {
        tokens += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return new Response(JSON.stringify({ token: 'tok' }), { status: 200 });
      }
      if (request.headers.get('prefect-csrf-token') !== 'tok') return new Response(JSON.stringify({ detail: 'Missing CSRF token.' }), { status: 403 });
      return new Response(JSON.stringify({ id: 'f1' }), { status: 201 });
    }) as typeof globalThis.fetch;
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    const write = () => client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow', schema: FlowIdSchema });
    await Promise.all([write(), write(), write()]);
    expect(tokens).toBe(1);
  });

  it('a 403 that is not about CSRF is refused credentials, with no token request', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 403, body: { detail: 'Forbidden' } }]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await expect(client.request('POST', 'flows/', { json: {}, action: 'register the flow', schema: FlowIdSchema })).rejects.toThrow(
      'Failed to register the flow: the Prefect API at http://prefect.test/api refused the credentials (403: Forbidden); check PREFECT_API_KEY (Cloud) or PREFECT_API_AUTH_STRING (self-hosted)',
    );
    expect(calls).toHaveLength(1);
  });
});

describe('PrefectClient CSRF refresh', () => {
  it('refreshes the token once only: a server that keeps refusing gets one clear line', async () => {
    const refuse = { status: 403, body: { detail: 'Invalid CSRF token or client identifier.' } };
    const { fetch, calls } = scriptedFetch([refuse, { status: 200, body: { token: 'a' } }, refuse, refuse]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await expect(client.request('POST', 'flows/', { json: {}, action: 'register the flow', schema: FlowIdSchema })).rejects.toThrow(
      'Failed to register the flow: the Prefect API at http://prefect.test/api rejected a fresh CSRF token (Invalid CSRF token or client identifier.); is a proxy dropping the Prefect-Csrf-Token / Prefect-Csrf-Client headers?',
    );
    expect(calls).toHaveLength(3);
  });
});

/** A fetch that fails as undici does when nothing listens. */
const refused = (async () => {
  throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
}) as typeof globalThis.fetch;

describe('PrefectClient: every answer checked against the shape we use', () => {
  it('a JSON string for a new flow run: one line naming the request, never a run "undefined"', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 201, body: 'oops' }]);
    const api = new PrefectApi(new PrefectClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.createFlowRun('d1', { parameters: {} }, { major: 3, minor: 4, raw: '3.4.1' })).rejects.toThrow(
      new OrchestratorError('Failed to create a flow run: Prefect answered 201 to POST /deployments/d1/create_flow_run with an unexpected body (expected an object, got a string): "oops"'),
    );
    expect(calls).toHaveLength(1);
  });

  it('a flow run without its fields names each missing one', async () => {
    const { fetch } = scriptedFetch([{ status: 200, body: { foo: 1 } }]);
    const api = new PrefectApi(new PrefectClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.readFlowRun('r1')).rejects.toThrow(
      new OrchestratorError(
        'Failed to read the flow run r1: Prefect answered 200 to GET /flow_runs/r1 with an unexpected body (id: missing (expected string); name: missing (expected string); state: missing (expected object)): {"foo":1}',
      ),
    );
  });

  it('{} for the version, not "raw.trim is not a function"', async () => {
    const { fetch } = scriptedFetch([{ status: 200, body: {} }]);
    const api = new PrefectApi(new PrefectClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.version()).rejects.toThrow(
      new OrchestratorError('Failed to read the server version: Prefect answered 200 to GET /admin/version with an unexpected body (expected a string, got an object): {}'),
    );
  });

  it('an HTML page is HTML, not "cannot reach"', async () => {
    const fetch = (async () => new Response('<!DOCTYPE html><html><title>Prefect Server</title></html>', { status: 200, headers: { 'content-type': 'text/html' } })) as typeof globalThis.fetch;
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await expect(client.serverVersion()).rejects.toThrow(
      new OrchestratorError(
        'Failed to read the server version: Prefect answered 200 to GET /admin/version with HTML, not JSON (<!DOCTYPE html><html><title>Prefect Server</title></html>); is PREFECT_API_URL the API (ending in /api), not the UI?',
      ),
    );
  });

  it('truncated JSON says so, with the start of the body', async () => {
    const fetch = (async () => new Response('{"id": "abc", "na', { status: 200, headers: { 'content-type': 'application/json' } })) as typeof globalThis.fetch;
    const api = new PrefectApi(new PrefectClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.readWorkPool('p')).rejects.toThrow(
      /^Failed to read the work pool 'p': Prefect answered 200 to GET \/work_pools\/p with a body that is not valid JSON \(.+\): \{"id": "abc", "na$/,
    );
  });

  it('lists of logs and flow runs are checked item by item', async () => {
    const { fetch } = scriptedFetch([{ status: 200, body: [{ level: 40, message: 'boom' }, { level: 'x' }] }]);
    const api = new PrefectApi(new PrefectClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.tailLogs('r1')).rejects.toThrow(
      new OrchestratorError(
        'Failed to read the flow run logs: Prefect answered 200 to POST /logs/filter with an unexpected body (1.level: expected a number, got a string; 1.message: missing (expected string)): [{"level":40,"message":"boom"},{"level":"x"}]',
      ),
    );
  });

  it('an error status names the request', async () => {
    const { fetch } = scriptedFetch([{ status: 404, body: { detail: 'Flow run not found' } }]);
    const api = new PrefectApi(new PrefectClient(connection, { fetch, logger: new MemoryLogger() }));
    await expect(api.readFlowRun('r1')).rejects.toThrow(new OrchestratorError('Failed to read the flow run r1: Prefect answered 404: Flow run not found (GET /flow_runs/r1)'));
  });

  it('a valid answer passes, extra fields kept', async () => {
    const run = { id: 'r1', name: 'brave-fox', state: { type: 'SCHEDULED', name: 'Scheduled' }, extra: 1 };
    const { fetch } = scriptedFetch([{ status: 200, body: run }]);
    const api = new PrefectApi(new PrefectClient(connection, { fetch, logger: new MemoryLogger() }));
    expect(await api.readFlowRun('r1')).toEqual(run);
  });
});

describe('PrefectClient: bounded', () => {
  it('Retry-After beyond the cap fails at once, saying how long the server asked for', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 429, headers: { 'retry-after': '3600' } }]);
    const started = Date.now();
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await expect(client.serverVersion()).rejects.toThrow(
      new OrchestratorError(
        'Failed to read the server version: Prefect answered 429 to GET /admin/version and asked to wait 3600 s (Retry-After), more than the 30 s this tool waits; try again later',
      ),
    );
    expect(calls).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('a Retry-After that would overrun the budget gives up with the figures', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 503, body: { detail: 'busy' }, headers: { 'retry-after': '2' } }]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger(), budgetMs: 1000 });
    await expect(client.serverVersion()).rejects.toThrow(
      /^Failed to read the server version: Prefect answered 503: busy \(GET \/admin\/version\); gave up after 1 tries in [\d.]+ s, it asked to wait 2 s more$/,
    );
    expect(calls).toHaveLength(1);
  });

  it('a server that never answers (even a fetch that ignores the signal) is reported as hung, in time', async () => {
    let tries = 0;
    const fetch = (() => {
      tries += 1;
      return new Promise<Response>(() => undefined);
    }) as typeof globalThis.fetch;
    const started = Date.now();
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger(), headersTimeoutMs: 200, backoffLimitMs: 10 });
    await expect(client.serverVersion()).rejects.toThrow(
      /^Failed to read the server version: the Prefect API at http:\/\/prefect\.test\/api hung: GET \/admin\/version did not answer in 0\.2 s \(3 tries in 0\.\d s\)$/,
    );
    expect(tries).toBe(3);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a body that stops is reported as hung, not "cannot reach"', async () => {
    const fetch = (async () =>
      new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('"3.'));
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      )) as typeof globalThis.fetch;
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger(), bodyTimeoutMs: 200, transportRetries: 0 });
    await expect(client.serverVersion()).rejects.toThrow(
      new OrchestratorError('Failed to read the server version: the Prefect API at http://prefect.test/api hung: the answer to GET /admin/version stopped for 0.2 s before its end'),
    );
  });

  it('the budget bounds a call whatever the per-try timeouts', async () => {
    const fetch = (() => new Promise<Response>(() => undefined)) as typeof globalThis.fetch;
    const started = Date.now();
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger(), headersTimeoutMs: 10_000, budgetMs: 300 });
    await expect(client.serverVersion()).rejects.toThrow(/hung: GET \/admin\/version did not answer in 0\.3 s$/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('PREFECT_API_REQUEST_TIMEOUT sets the per-try timeouts', async () => {
    const fetch = (() => new Promise<Response>(() => undefined)) as typeof globalThis.fetch;
    const client = new PrefectClient({ ...connection, requestTimeoutMs: 150 }, { fetch, logger: new MemoryLogger(), transportRetries: 0 });
    await expect(client.serverVersion()).rejects.toThrow(/did not answer in 0\.2 s$/);
  });

  it('a dropped connection is not "cannot reach"', async () => {
    const fetch = (async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    }) as typeof globalThis.fetch;
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger(), backoffLimitMs: 10 });
    await expect(client.serverVersion()).rejects.toThrow(
      /^Failed to read the server version: the Prefect API at http:\/\/prefect\.test\/api dropped the connection during GET \/admin\/version \(ECONNRESET\) \(3 tries in [\d.]+ s\)$/,
    );
  });

  it('logs the real time of each try', async () => {
    const fetch = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 80));
      return new Response('"3.4.1"', { status: 200 });
    }) as typeof globalThis.fetch;
    const logger = new MemoryLogger();
    await new PrefectClient(connection, { fetch, logger }).serverVersion();
    const ms = Number(/→ 200 \((\d+) ms\)$/.exec(logger.lines.find((l) => l.includes('/admin/version')) ?? '')?.[1]);
    expect(ms).toBeGreaterThanOrEqual(70);
  });
});

describe('PrefectClient: credentials in PREFECT_API_URL', () => {
  it('become the auth string (Basic auth), never in the URL fetch sees nor in a message; resolveConnection hands the password over as a secret', async () => {
    const resolved = resolveConnection({ PREFECT_API_URL: 'http://user:secret%40pw@prefect.test/api', PREFECT_HOME: '/nonexistent' });
    expect(resolved).toMatchObject({ apiUrl: 'http://prefect.test/api', authString: 'user:secret@pw', secrets: ['secret@pw', 'secret%40pw'] });
    const basic = Buffer.from('user:secret@pw').toString('base64');
    const seen: Array<{ url: string; authorization: string | null }> = [];
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      seen.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
      return refused(input, init);
    }) as typeof globalThis.fetch;
    const logger = new MemoryLogger();
    const client = new PrefectClient(resolved, { fetch, logger, backoffLimitMs: 10 });
    const error = await client.serverVersion().catch((e: Error) => e);
    expect((error as Error).message).toBe('Failed to read the server version: cannot reach the Prefect API at http://prefect.test/api (ECONNREFUSED)');
    expect(seen[0]).toEqual({ url: 'http://prefect.test/api/admin/version', authorization: `Basic ${basic}` });
    expect(logger.rawLines.join('\n')).not.toMatch(/secret/);
  });

  it('PREFECT_API_REQUEST_TIMEOUT must be seconds above 0', () => {
    expect(resolveConnection({ PREFECT_API_URL: 'http://p/api', PREFECT_API_REQUEST_TIMEOUT: '0.5', PREFECT_HOME: '/nonexistent' }).requestTimeoutMs).toBe(500);
    expect(() => resolveConnection({ PREFECT_API_URL: 'http://p/api', PREFECT_API_REQUEST_TIMEOUT: 'soon', PREFECT_HOME: '/nonexistent' })).toThrow(
      "PREFECT_API_REQUEST_TIMEOUT 'soon' is not a number of seconds above 0 (e.g. 20 or 0.5)",
    );
  });
});
