import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { PrefectClient } from '../../src/orchestrators/prefect/client.js';

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
    await expect(client.serverVersion()).rejects.toThrow('Failed to read the server version: Prefect answered 503');
    expect(calls).toHaveLength(3);
  });

  it('does not retry a 422 and shows the validation detail in one line', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 404, body: { detail: 'Not Found' } }, // csrf-token: protection off
      { status: 422, body: { exception_message: 'Invalid request received.', exception_detail: [{ loc: ['body', 'infra_overrides'], msg: 'Extra inputs are not permitted' }] } },
    ]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await expect(client.request('POST', 'deployments/', { json: {}, action: "create the deployment 'x'" })).rejects.toThrow(
      "Failed to create the deployment 'x': Prefect answered 422: Invalid request received. (infra_overrides: Extra inputs are not permitted)",
    );
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual(['GET /api/csrf-token', 'POST /api/deployments/']);
  });

  it('sends the key as Bearer, JSON bodies, and logs method, path, status and time but never the key', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 422, body: { detail: 'CSRF protection is disabled.' } }, { status: 201, body: { id: 'f1' } }]);
    const logger = new MemoryLogger();
    const client = new PrefectClient({ ...connection, apiKey: 'pnu_secret' }, { fetch, logger });
    const res = await client.request<{ id: string }>('POST', 'flows/', { json: { name: 'hello' }, action: 'register the flow' });
    expect(res).toEqual({ status: 201, body: { id: 'f1' } });
    expect(calls[1]!.headers.get('authorization')).toBe('Bearer pnu_secret');
    expect(calls[1]!.headers.get('content-type')).toMatch(/application\/json/);
    expect(calls[1]!.body).toBe('{"name":"hello"}');
    expect(logger.lines).toContainEqual(expect.stringMatching(/^debug: prefect: POST \/api\/flows\/ → 201 \(\d+ ms\)$/));
    expect(logger.lines.join('\n')).not.toContain('pnu_secret');
  });

  it('sends the CSRF token and client on writes when the server wants them', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 200, body: { token: 'tok', expiration: '2099-01-01T00:00:00Z' } }, { status: 200, body: { id: 'f1' } }]);
    const client = new PrefectClient({ ...connection, authString: 'u:p' }, { fetch, logger: new MemoryLogger() });
    await client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow' });
    expect(calls[1]!.headers.get('prefect-csrf-token')).toBe('tok');
    expect(calls[1]!.headers.get('prefect-csrf-client')).toBe(new URL(calls[0]!.url).searchParams.get('client'));
    expect(calls[1]!.headers.get('authorization')).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('fetches a new CSRF token once when the server says it is invalid', async () => {
    const { fetch, calls } = scriptedFetch([
      { status: 200, body: { token: 'old' } },
      { status: 403, body: { detail: 'Invalid CSRF token or client identifier.' } },
      { status: 200, body: { token: 'new' } },
      { status: 201, body: { id: 'f1' } },
    ]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await client.request('POST', 'flows/', { json: { name: 'x' }, action: 'register the flow' });
    expect(calls.map((c) => c.headers.get('prefect-csrf-token'))).toEqual([null, 'old', null, 'new']);
  });
});

describe('PrefectClient CSRF refresh', () => {
  it('refreshes the token once only: a server that keeps refusing gets one clear line', async () => {
    const refuse = { status: 403, body: { detail: 'Invalid CSRF token or client identifier.' } };
    const { fetch, calls } = scriptedFetch([{ status: 200, body: { token: 'a' } }, refuse, { status: 200, body: { token: 'b' } }, refuse, refuse]);
    const client = new PrefectClient(connection, { fetch, logger: new MemoryLogger() });
    await expect(client.request('POST', 'flows/', { json: {}, action: 'register the flow' })).rejects.toThrow(
      'Failed to register the flow: the Prefect API at http://prefect.test/api rejected a fresh CSRF token (Invalid CSRF token or client identifier.); is a proxy dropping the Prefect-Csrf-Token / Prefect-Csrf-Client headers?',
    );
    expect(calls).toHaveLength(4);
  });
});
