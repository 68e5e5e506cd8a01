import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { credentialsRefused, refusesCredentials } from '../../src/http/credentials-hint.js';
import { readDetail } from '../../src/http/detail.js';
import { htmlHint, markupKind } from '../../src/http/html-hint.js';
import { BoundedJsonClient, type HttpService } from '../../src/http/json-client.js';
import { HTTP_DEFAULTS, resolveLimits } from '../../src/http/limits.js';
import { neverRepeat, repeatUnlessPost } from '../../src/http/repeat-after-500.js';
import { MemoryLogger } from '../../src/logger.js';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

function scriptedFetch(replies: Reply[]) {
  const calls: Array<{ method: string; url: string; headers: Headers }> = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    calls.push({ method: request.method, url: request.url, headers: request.headers });
    const reply = replies.shift() ?? { status: 500, body: { detail: 'script exhausted' } };
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const service: HttpService = {
  name: 'Thing',
  logTag: 'thing',
  baseUrl: 'http://thing.test/api',
  shownUrl: 'http://thing.test/api',
  urlSetting: 'THING_URL',
  htmlHint: htmlHint('THING_URL', 'the API'),
  credentialsHint: 'check THING_TOKEN',
};

function client(fetch: typeof globalThis.fetch, extra: Partial<HttpService> = {}, limits = {}) {
  const logger = new MemoryLogger();
  return { logger, http: new BoundedJsonClient({ ...service, ...extra }, { fetch, logger, limits: resolveLimits({ backoffLimitMs: 10, ...limits }) }) };
}

describe('resolveLimits: the bounds documented in src/http/limits.ts', () => {
  it('defaults: 20 s per try, 45 s per call', () => {
    expect(resolveLimits()).toEqual(HTTP_DEFAULTS);
    expect(HTTP_DEFAULTS).toMatchObject({ headersTimeoutMs: 20_000, bodyTimeoutMs: 20_000, budgetMs: 45_000, maxRetryAfterMs: 30_000 });
  });

  it('a per-try timeout (PREFECT_API_REQUEST_TIMEOUT) makes the budget twice it plus 5 s', () => {
    expect(resolveLimits({ perTryMs: 500 })).toMatchObject({ headersTimeoutMs: 500, bodyTimeoutMs: 500, budgetMs: 6000 });
  });

  it('a budget alone (Airflow request_timeout) gives each try half of it, at most 20 s', () => {
    expect(resolveLimits({ budgetMs: 30_000 })).toMatchObject({ headersTimeoutMs: 15_000, bodyTimeoutMs: 15_000, budgetMs: 30_000 });
    expect(resolveLimits({ budgetMs: 120_000 })).toMatchObject({ headersTimeoutMs: 20_000, bodyTimeoutMs: 20_000, budgetMs: 120_000 });
  });

  it('explicit options win', () => {
    expect(resolveLimits({ budgetMs: 300, headersTimeoutMs: 10_000, retries: 1 })).toMatchObject({ headersTimeoutMs: 10_000, bodyTimeoutMs: 150, budgetMs: 300, retries: 1 });
  });
});

describe('readDetail: what an error answer says, in one line', () => {
  it.each([
    ['{"detail":"Flow run not found"}', 'Flow run not found'],
    ['{"detail":{"reason":"Unique constraint violation","message":"Serious error"}}', 'Unique constraint violation: Serious error'],
    ['{"detail":[{"loc":["body","logical_date"],"msg":"Field required"},{"loc":["query","limit"],"msg":"too big"}]}', 'logical_date: Field required; limit: too big'],
    [
      '{"exception_message":"Invalid request received.","exception_detail":[{"loc":["body","infra_overrides"],"msg":"Extra inputs are not permitted"}]}',
      'Invalid request received. (infra_overrides: Extra inputs are not permitted)',
    ],
    ['<html>\n  <body>Bad   Gateway</body>\n</html>', '<html> <body>Bad Gateway</body> </html>'],
    ['', ''],
  ])('%s', (text, detail) => {
    expect(readDetail(text)).toBe(detail);
  });

  it('never more than 300 characters', () => {
    expect(readDetail(JSON.stringify({ detail: 'x'.repeat(1000) }))).toHaveLength(300);
  });
});

describe('hints and the repeat rule', () => {
  it('HTML and XML are told by their content type or their start', () => {
    expect(markupKind('text/html; charset=utf-8', '')).toBe('HTML');
    expect(markupKind('application/json', '  <!doctype html>')).toBe('HTML');
    expect(markupKind('application/xml', '<Error/>')).toBe('XML');
    expect(markupKind(null, '<?xml version="1.0"?><Error/>')).toBe('XML');
    expect(markupKind(null, '<Error><Code>AccessDenied</Code></Error>')).toBe('markup');
    expect(markupKind('application/json', '{"a":1}')).toBeUndefined();
  });

  it('401 and 403 refuse the credentials, and the line names the server, never a secret', () => {
    expect([401, 403, 404].map(refusesCredentials)).toEqual([true, true, false]);
    expect(credentialsRefused(service, 401, 'Unauthorized', 'check THING_TOKEN')).toBe('the Thing API at http://thing.test/api refused the credentials (401: Unauthorized); check THING_TOKEN');
  });

  it('reads, updates and deletes may be repeated after a 500; a POST only when its rule says so', () => {
    const rule = repeatUnlessPost((r) => r.path.endsWith('/runs') && 'x-run-id' in r.headers);
    const req = (method: string, path: string, headers: Record<string, string> = {}) => ({ method, path, headers });
    expect([rule(req('GET', '/a')), rule(req('PATCH', '/a')), rule(req('DELETE', '/a')), rule(req('PUT', '/a'))]).toEqual([true, true, true, true]);
    expect(rule(req('POST', '/runs'))).toBe(false);
    expect(rule(req('POST', '/runs', { 'x-run-id': 'r1' }))).toBe(true);
    expect(neverRepeat(req('GET', '/a'))).toBe(false);
  });
});

describe('BoundedJsonClient, named by its service', () => {
  it('names the service in status errors, and adds the tries when there were several', async () => {
    const { fetch } = scriptedFetch([{ status: 404, body: { detail: 'gone' } }, { status: 503 }, { status: 503 }]);
    const { http } = client(fetch, {}, { retries: 1 });
    await expect(http.request('GET', 'things/1', { action: 'read the thing', schema: z.unknown() })).rejects.toThrow('Failed to read the thing: Thing answered 404: gone (GET /things/1)');
    await expect(http.request('GET', 'things/1', { action: 'read the thing', schema: z.unknown() })).rejects.toThrow(/^Failed to read the thing: Thing answered 503 \(GET \/things\/1, 2 tries in [\d.]+ s\)$/);
  });

  it('a 500 is repeated only where the service rule allows it', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 500 }, { status: 200, body: 1 }, { status: 500, body: { detail: 'boom' } }]);
    const { http } = client(fetch, { repeatAfter500: repeatUnlessPost() });
    expect((await http.request('GET', 'things', { action: 'list', schema: z.number() })).body).toBe(1);
    await expect(http.request('POST', 'things', { action: 'create', schema: z.unknown(), json: {} })).rejects.toThrow('Failed to create: Thing answered 500: boom (POST /things)');
    expect(calls.map((c) => c.method)).toEqual(['GET', 'GET', 'POST']);
  });

  it('accepted statuses are answers, with the body as sent; query parameters are added; logs carry the tag', async () => {
    const { fetch, calls } = scriptedFetch([{ status: 404, body: { detail: 'nope' } }]);
    const { http, logger } = client(fetch);
    const res = await http.request('GET', 'things', { action: 'list', schema: z.number(), accept: [404], searchParams: new URLSearchParams({ a: '1', b: 'x y' }) });
    expect(res).toEqual({ status: 404, body: { detail: 'nope' } });
    expect(calls[0]!.url).toBe('http://thing.test/api/things?a=1&b=x+y');
    expect(logger.lines).toContainEqual(expect.stringMatching(/^debug: thing: GET \/api\/things → 404 \(\d+ ms\)$/));
  });

  it('a hung server: the message gives the longest try, not the last one the budget cut short', async () => {
    const never = (() => new Promise<Response>(() => undefined)) as typeof globalThis.fetch;
    const { http } = client(never, {}, { budgetMs: 580, headersTimeoutMs: 200, backoffLimitMs: 10 });
    await expect(http.request('GET', 'things', { action: 'list', schema: z.unknown() })).rejects.toThrow(
      /^Failed to list: the Thing API at http:\/\/thing\.test\/api hung: GET \/things did not answer in 0\.2 s \(3 tries in 0\.\d s\)$/,
    );
  });

  it('an HTML 200 says which setting to check', async () => {
    const html = (async () => new Response('<html>UI</html>', { status: 200, headers: { 'content-type': 'text/html' } })) as typeof globalThis.fetch;
    const { http } = client(html);
    await expect(http.request('GET', 'things', { action: 'list', schema: z.unknown() })).rejects.toThrow(
      'Failed to list: Thing answered 200 to GET /things with HTML, not JSON (<html>UI</html>); is THING_URL the API?',
    );
  });
});
