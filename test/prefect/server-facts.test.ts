import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { PrefectApi } from '../../src/orchestrators/prefect/api.js';
import { PrefectClient } from '../../src/orchestrators/prefect/client.js';
import { serverFacts } from '../../src/orchestrators/prefect/server-facts.js';

const URL_ = 'http://prefect.test/api';

/** A Prefect that knows one pool, answering after a tick, counting what it was asked. */
function server() {
  const asked: string[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    asked.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (url.pathname === '/api/admin/version') return Response.json('3.8.8');
    if (url.pathname === '/api/work_pools/ci') return Response.json({ name: 'ci', type: 'process' });
    return Response.json({ detail: 'Not found' }, { status: 404 });
  }) as typeof globalThis.fetch;
  return { asked, fetch };
}

/** One workflow's API, as PrefectOrchestrator opens it with the step's shared map. */
function workflowApi(fetch: typeof globalThis.fetch, shared: Map<string, unknown> | undefined, authorization?: string) {
  const facts = serverFacts(shared, URL_, authorization);
  return new PrefectApi(new PrefectClient({ apiUrl: URL_ }, { fetch, logger: new MemoryLogger(), facts }));
}

describe("what a step learned of a Prefect server is kept for the step's other workflows", () => {
  it('ten workflows at once: one version request and one pool request', async () => {
    const { asked, fetch } = server();
    const shared = new Map<string, unknown>();
    const apis = Array.from({ length: 10 }, () => workflowApi(fetch, shared));
    const versions = await Promise.all(apis.map((api) => api.version()));
    const pools = await Promise.all(apis.map((api) => api.readWorkPool('ci')));
    expect(versions.every((v) => v.raw === '3.8.8')).toBe(true);
    expect(pools.every((p) => p?.type === 'process')).toBe(true);
    expect(asked).toEqual(['GET /api/admin/version', 'GET /api/work_pools/ci']);
  });

  it('a missing pool is asked again (a worker may be creating it); other credentials ask for themselves', async () => {
    const { asked, fetch } = server();
    const shared = new Map<string, unknown>();
    const first = workflowApi(fetch, shared);
    expect(await first.readWorkPool('missing')).toBeUndefined();
    expect(await workflowApi(fetch, shared).readWorkPool('missing')).toBeUndefined();
    await first.version();
    await workflowApi(fetch, shared, 'Basic b3RoZXI6Y3JlZHM=').version();
    expect(asked).toEqual(['GET /api/work_pools/missing', 'GET /api/work_pools/missing', 'GET /api/admin/version', 'GET /api/admin/version']);
  });

  it('without a shared map (a single workflow) nothing is kept beyond its own client', async () => {
    const { asked, fetch } = server();
    await workflowApi(fetch, undefined).version();
    await workflowApi(fetch, undefined).version();
    expect(asked).toEqual(['GET /api/admin/version', 'GET /api/admin/version']);
  });
});
