import { describe, expect, it } from 'vitest';
import { BoundedJsonClient, type HttpService } from '../../src/http/json-client.js';
import { resolveLimits, type HttpLimitOptions } from '../../src/http/limits.js';
import { WriteGate } from '../../src/http/write-gate.js';
import { MemoryLogger } from '../../src/logger.js';
import { z } from 'zod';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WriteGate: writes one at a time once the server refused one as busy', () => {
  it('holds nothing before a 503, and never holds reads', async () => {
    const gate = new WriteGate();
    const releases = await Promise.all(['POST', 'POST', 'PATCH', 'DELETE'].map((m) => gate.acquire(m)));
    gate.observe('POST', 503);
    expect(gate.serial).toBe(true);
    // Four writes still hold the gate: a read goes through all the same.
    await gate.acquire('GET');
    releases.forEach((release) => release());
  });

  it('a read answered 503, or a write answered anything else, changes nothing', () => {
    const gate = new WriteGate();
    gate.observe('GET', 503);
    gate.observe('POST', 500);
    gate.observe('POST', 429);
    expect(gate.serial).toBe(false);
  });

  it('after a 503 to a write, the next write waits for the one on the wire, then they go one at a time', async () => {
    const gate = new WriteGate();
    gate.observe('POST', 503);
    const order: string[] = [];
    const write = async (name: string) => {
      const release = await gate.acquire('POST');
      order.push(`${name} starts`);
      await sleep(5);
      order.push(`${name} ends`);
      release();
      release(); // a second call is harmless
    };
    await Promise.all([write('a'), write('b'), write('c')]);
    expect(order).toEqual(['a starts', 'a ends', 'b starts', 'b ends', 'c starts', 'c ends']);
  });
});

/** A server like Prefect on SQLite: a write that arrives while another is under way is answered 503. */
function sqliteLikeServer(writeMs: number) {
  let inFlight = 0;
  const stats = { calls: 0, refused: 0, mostAtOnce: 0 };
  const fetch = (async () => {
    stats.calls += 1;
    const busy = inFlight > 0;
    inFlight += 1;
    stats.mostAtOnce = Math.max(stats.mostAtOnce, inFlight);
    await sleep(busy ? 1 : writeMs);
    inFlight -= 1;
    if (busy) {
      stats.refused += 1;
      return Response.json({ detail: 'Service Unavailable' }, { status: 503 });
    }
    return Response.json({ ok: true }, { status: 201 });
  }) as typeof globalThis.fetch;
  return { fetch, stats };
}

const service: HttpService = {
  name: 'Thing',
  logTag: 'thing',
  baseUrl: 'http://thing.test/api',
  shownUrl: 'http://thing.test/api',
  urlSetting: 'THING_URL',
  htmlHint: 'is THING_URL the API?',
  credentialsHint: 'check THING_TOKEN',
};

/** One client per workflow, as a step has them, sharing the server's gate. */
function clients(n: number, fetch: typeof globalThis.fetch, gate: WriteGate | undefined, limits: HttpLimitOptions = {}) {
  const logger = new MemoryLogger();
  return {
    logger,
    all: Array.from({ length: n }, () => new BoundedJsonClient(service, { fetch, logger, gate, limits: resolveLimits({ backoffLimitMs: 10, ...limits }) })),
  };
}

const write = (http: BoundedJsonClient) => http.request('POST', 'things/', { action: 'write a thing', schema: z.object({ ok: z.boolean() }), json: {} });

describe('BoundedJsonClient with a write gate, against a server that refuses concurrent writes', () => {
  it('eight writes at once: the seven refused are each retried once, one at a time, and all succeed', async () => {
    const { fetch, stats } = sqliteLikeServer(5);
    const gate = new WriteGate();
    const { all, logger } = clients(8, fetch, gate);
    const results = await Promise.allSettled(all.map(write));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(stats).toMatchObject({ calls: 15, refused: 7 });
    expect(logger.lines.filter((l) => l.includes('writes to it go one at a time')).length).toBe(1);
  });

  it('waiting for a turn does not count against the budget of a call', async () => {
    const { fetch, stats } = sqliteLikeServer(40);
    const gate = new WriteGate();
    gate.observe('POST', 503);
    // 5 writes of 40 ms, one at a time: the last waits 160 ms, more than the 100 ms budget.
    const { all } = clients(5, fetch, gate, { budgetMs: 100 });
    const results = await Promise.allSettled(all.map(write));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
    expect(stats).toMatchObject({ calls: 5, refused: 0, mostAtOnce: 1 });
  });
});
