import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { PrefectApi } from '../../src/orchestrators/prefect/api.js';
import { PrefectClient } from '../../src/orchestrators/prefect/client.js';
import { serverFacts } from '../../src/orchestrators/prefect/server-facts.js';

const URL_ = 'http://prefect.test/api';

/** A Prefect that knows one pool and registers flows, answering after a tick, counting what it was asked. */
function server() {
  const asked: string[] = [];
  const refused = new Set<string>();
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    asked.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (url.pathname === '/api/admin/version') return Response.json('3.8.8');
    if (url.pathname === '/api/work_pools/ci') return Response.json({ name: 'ci', type: 'process' });
    if (url.pathname === '/api/flows/') {
      const { name } = JSON.parse(String(init?.body)) as { name: string };
      asked[asked.length - 1] += ` ${name}`;
      // 'flaky' is refused the first time it is registered.
      if (name === 'flaky' && !refused.has(name)) {
        refused.add(name);
        return Response.json({ detail: 'refused once' }, { status: 422 });
      }
      return Response.json({ id: `id-of-${name}`, name }, { status: 201 });
    }
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

  it('ten workflows of one flow at once: one flow registration; another flow is registered for itself', async () => {
    const { asked, fetch } = server();
    const shared = new Map<string, unknown>();
    const apis = Array.from({ length: 10 }, () => workflowApi(fetch, shared));
    const ids = await Promise.all(apis.map((api) => api.ensureFlow('prefect-entrypoint')));
    expect(ids).toEqual(Array.from({ length: 10 }, () => 'id-of-prefect-entrypoint'));
    expect(await workflowApi(fetch, shared).ensureFlow('other')).toBe('id-of-other');
    expect(asked).toEqual(['POST /api/flows/ prefect-entrypoint', 'POST /api/flows/ other']);
  });

  it('a failed flow registration is not kept: the next workflow registers it again', async () => {
    const { asked, fetch } = server();
    const shared = new Map<string, unknown>();
    const [a, b] = [workflowApi(fetch, shared), workflowApi(fetch, shared)];
    // Two at once share the failing request, and both see its error.
    const first = await Promise.allSettled([a.ensureFlow('flaky'), b.ensureFlow('flaky')]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((first[0] as PromiseRejectedResult).reason)).toMatch(/register the flow 'flaky'.*422/);
    expect(await workflowApi(fetch, shared).ensureFlow('flaky')).toBe('id-of-flaky');
    expect(asked).toEqual(['POST /api/flows/ flaky', 'POST /api/flows/ flaky']);
  });

  it("the workflows of a step share the server's write gate; other credentials or another server have their own", () => {
    const shared = new Map<string, unknown>();
    const gate = serverFacts(shared, URL_, undefined).writes;
    expect(serverFacts(shared, URL_, undefined).writes).toBe(gate);
    expect(serverFacts(shared, URL_, 'Basic b3RoZXI6Y3JlZHM=').writes).not.toBe(gate);
    expect(serverFacts(shared, 'http://other.test/api', undefined).writes).not.toBe(gate);
  });

  it('without a shared map (a single workflow) nothing is kept beyond its own client', async () => {
    const { asked, fetch } = server();
    await workflowApi(fetch, undefined).version();
    await workflowApi(fetch, undefined).version();
    expect(asked).toEqual(['GET /api/admin/version', 'GET /api/admin/version']);
  });
});
