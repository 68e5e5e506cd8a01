import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { PrefectApi } from '../../src/orchestrators/prefect/api.js';
import { PrefectClient } from '../../src/orchestrators/prefect/client.js';
import { resolveConnection, type PrefectConnection } from '../../src/orchestrators/prefect/connection.js';
import { ciContext, FLOWS_PY, gitRepository, service, tempDir } from '../helpers/services.js';
import { prefectApi, runConfig } from '../helpers/pipeline.js';
import { FaultProxy, faultName, seededRandom, type Fault } from '../helpers/fault-proxy.js';

const apiUrl = service('LOLPOP_TEST_PREFECT_URL');

/** Short limits, so a fault costs about a second: 1 s per try, 5 s per call. */
const LIMITS = { headersTimeoutMs: 1000, bodyTimeoutMs: 1000, budgetMs: 5000, backoffLimitMs: 300 };
/** Every call must end by its budget; a little slack for the machine. */
const BOUND_MS = LIMITS.budgetMs + 1000;

describe.skipIf(!apiUrl)('the Prefect client through a fault-injecting proxy in front of a real Prefect 3 server', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await new FaultProxy(apiUrl!).start();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  function client(logger = new MemoryLogger(), connection: PrefectConnection = { apiUrl: proxy.url }): PrefectApi {
    return new PrefectApi(new PrefectClient(connection, { logger, ...LIMITS }));
  }

  /** Runs `call`, and returns what it ended in and how long it took. */
  async function timed<T>(call: () => Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> {
    const started = Date.now();
    try {
      const value = await call();
      return { value, ms: Date.now() - started };
    } catch (error) {
      return { error: error as Error, ms: Date.now() - started };
    }
  }

  describe('one fault, then the server again: a transient fault is retried and the call succeeds', () => {
    const transient: Fault[] = [
      { kind: 'reset' },
      { kind: 'drop-after' },
      { kind: 'status', status: 502 },
      { kind: 'status', status: 503 },
      { kind: '429', retryAfter: 1 },
      { kind: 'stall-headers' },
      { kind: 'stall-body' },
    ];
    it.each(transient.map((f) => [faultName(f), f] as const))('%s', async (_name, fault) => {
      proxy.reset();
      proxy.once(fault, 'GET /api/admin/version');
      const outcome = await timed(() => client().version());
      expect(outcome.error).toBeUndefined();
      expect(outcome.value?.major).toBe(3);
      expect(outcome.ms).toBeLessThan(BOUND_MS);
      if (fault.kind === '429') expect(outcome.ms).toBeGreaterThanOrEqual(950);
      expect(proxy.log.map((l) => l.fault ?? 'forwarded')).toEqual([faultName(fault), 'forwarded']);
    });
  });

  describe('a fault that does not pass: one clear line within the bound', () => {
    const version = 'GET /api/admin/version';
    const cases: Array<{ name: string; setup: () => void; message: (url: string) => string | RegExp; maxMs?: number }> = [
      {
        name: '500',
        setup: () => proxy.once({ kind: 'status', status: 500 }, version),
        message: () => 'Failed to read the server version: Prefect answered 500: injected 500 (GET /admin/version)',
      },
      {
        name: '503 on every try',
        setup: () => (proxy.script = () => ({ kind: 'status', status: 503 })),
        message: () => /^Failed to read the server version: Prefect answered 503: injected 503 \(GET \/admin\/version, 6 tries in [\d.]+ s\)$/,
      },
      {
        name: '429 with Retry-After 3600',
        setup: () => proxy.once({ kind: '429', retryAfter: 3600 }, version),
        message: () =>
          'Failed to read the server version: Prefect answered 429 to GET /admin/version and asked to wait 3600 s (Retry-After), more than the 30 s this tool waits; try again later',
        maxMs: 500,
      },
      {
        name: 'a server that accepts and never answers',
        setup: () => (proxy.script = () => ({ kind: 'stall-headers' })),
        message: (url) => new RegExp(`^Failed to read the server version: the Prefect API at ${escape(url)} hung: GET /admin/version did not answer in 1 s \\(3 tries in [\\d.]+ s\\)$`),
      },
      {
        name: 'a body that stops half-way',
        setup: () => (proxy.script = () => ({ kind: 'stall-body' })),
        message: (url) =>
          new RegExp(`^Failed to read the server version: the Prefect API at ${escape(url)} hung: the answer to GET /admin/version stopped for 1 s before its end \\(3 tries in [\\d.]+ s\\)$`),
      },
      {
        name: 'a connection reset on every try',
        setup: () => (proxy.script = () => ({ kind: 'reset' })),
        message: (url) => new RegExp(`^Failed to read the server version: the Prefect API at ${escape(url)} dropped the connection during GET /admin/version \\(\\w+\\) \\(3 tries in [\\d.]+ s\\)$`),
      },
      {
        name: 'a JSON object for the version',
        setup: () => proxy.once({ kind: 'empty-object' }, version),
        message: () => 'Failed to read the server version: Prefect answered 200 to GET /admin/version with an unexpected body (expected a string, got an object): {}',
      },
      {
        name: 'an HTML page for the version',
        setup: () => proxy.once({ kind: 'html' }, version),
        message: () =>
          'Failed to read the server version: Prefect answered 200 to GET /admin/version with HTML, not JSON (<!doctype html><html><head><title>Prefect</title></head><body><div id="app"></di…); is PREFECT_API_URL the API (ending in /api), not the UI?',
      },
      {
        name: 'a JSON string that is no version',
        setup: () => proxy.once({ kind: 'json-string' }, version),
        message: () => 'Failed to read the server version: Prefect answered 200 to GET /admin/version with an unexpected body (expected a version such as "3.4.1"): "ok"',
      },
      {
        name: 'truncated JSON',
        setup: () => proxy.once({ kind: 'truncated' }, /^GET \/api\/work_pools\//),
        message: () => /^Failed to read the work pool '[\w-]+': Prefect answered 200 to GET \/work_pools\/[\w-]+ with a body that is not valid JSON \([^)]+\): \{"id":/,
      },
    ];
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      proxy.reset();
      c.setup();
      const api = client();
      const outcome = await timed<unknown>(() => (c.name === 'truncated JSON' ? api.readWorkPool(service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process') : api.version()));
      proxy.reset();
      expect(outcome.value).toBeUndefined();
      const expected = c.message(proxy.url);
      if (typeof expected === 'string') expect(outcome.error?.message).toBe(expected);
      else expect(outcome.error?.message).toMatch(expected);
      expect(outcome.error?.message).not.toContain('\n');
      expect(outcome.ms).toBeLessThan(c.maxMs ?? BOUND_MS);
    });
  });

  it('a password in PREFECT_API_URL goes as Basic auth and is in no message', async () => {
    proxy.reset();
    proxy.script = () => ({ kind: 'stall-headers' });
    const logger = new MemoryLogger();
    const withPassword = proxy.url.replace('http://', 'http://user:secretpw@');
    // As every step gets it: the connection takes the password out of the URL and makes it the auth string.
    const outcome = await timed(() => client(logger, resolveConnection({ PREFECT_API_URL: withPassword })).version());
    const seen = proxy.log[0];
    proxy.reset();
    expect(outcome.error?.message).toMatch(new RegExp(`^Failed to read the server version: the Prefect API at ${escape(proxy.url)} hung`));
    expect(outcome.error?.message).not.toContain('secretpw');
    expect(logger.rawLines.join('\n')).not.toContain('secretpw');
    expect(seen).toMatchObject({ method: 'GET', path: '/api/admin/version', authorization: `Basic ${Buffer.from('user:secretpw').toString('base64')}` });
  });

  describe('deploy and run through runConfig', () => {
    let root: string;
    let sha: string;
    const repository = `acme/faults-${randomUUID().slice(0, 8)}`;
    const uid = randomUUID().slice(0, 6);
    /** A pool of its own that no worker polls: the runs stay SCHEDULED, nothing executes them. */
    const pool = `ci-faults-${uid}`;

    beforeAll(async () => {
      root = tempDir('gh');
      sha = gitRepository(root, repository, { 'flows/flows.py': FLOWS_PY });
      await prefectApi(apiUrl!, 'POST', 'work_pools/', { name: pool, type: 'process' });
    });
    afterAll(async () => {
      await fetch(`${apiUrl}/work_pools/${pool}`, { method: 'DELETE' }).catch(() => undefined);
    });

    const ci = (runId: string) => ciContext({ serverUrl: `file://${root}`, repository, sha, shortSha: sha.slice(0, 7), runId, runAttempt: '1' });

    /** PREFECT_API_REQUEST_TIMEOUT 0.5: half a second per try, a 6 s budget per call. */
    function config(name: string, url = proxy.url): string {
      return `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${url}", PREFECT_API_REQUEST_TIMEOUT: "0.5"}
  deployment:
    name: ${name}
    deploy:
      work_pool: ${pool}
      flow_entrypoint: flows/flows.py:hello
    run:
      parameters: {name: CI}
      wait: false
`;
    }

    it('a JSON string for the new flow run: one line naming the request, no run id "undefined"', async () => {
      proxy.reset();
      proxy.once({ kind: 'json-string' }, /create_flow_run$/);
      const { result, logger } = await runConfig({ dir: tempDir('cfg'), yaml: config(`ci-jsonstr-${uid}`), env: {}, ci: ci(randomUUID()) });
      const log = proxy.log.map((l) => `${l.method} ${l.path}`);
      proxy.reset();
      expect(result.steps.map((s) => [s.step, s.status])).toEqual([
        ['deploy', 'success'],
        ['run', 'failed'],
      ]);
      expect(result.error?.message).toBe(
        `Failed to create a flow run: Prefect answered 200 to POST /deployments/${result.deployment!.id}/create_flow_run with an unexpected body (expected an object, got a string): "ok"`,
      );
      expect(logger.lines.join('\n')).not.toContain('undefined');
      expect(log.filter((l) => l.includes('undefined'))).toEqual([]);
    });

    it('a hung server through the whole pipeline: the hang is named, in under the bound', async () => {
      proxy.reset();
      proxy.script = () => ({ kind: 'stall-headers' });
      const started = Date.now();
      const { result } = await runConfig({ dir: tempDir('cfg'), yaml: config(`ci-hung-${uid}`), env: {}, ci: ci(randomUUID()) });
      const ms = Date.now() - started;
      proxy.reset();
      expect(result.error?.message).toMatch(
        new RegExp(`^Failed to read the server version: the Prefect API at ${escape(proxy.url)} hung: GET /admin/version did not answer in 0.5 s \\(3 tries in [\\d.]+ s\\)$`),
      );
      expect(ms).toBeLessThan(7000);
    });

    it('100 deploy + run cycles with seeded random faults: each a success or one clear line, no duplicate flow run', async () => {
      const seed = Number(process.env.FAULT_SEED ?? 20261201);
      const random = seededRandom(seed);
      const name = `ci-loop-${uid}`;
      /** The faults and their weights; about one request in fifteen gets one. */
      const kinds: Array<[Fault, number]> = [
        [{ kind: 'reset' }, 3],
        [{ kind: 'drop-after' }, 4],
        [{ kind: 'status', status: 502 }, 2],
        [{ kind: 'status', status: 503 }, 2],
        [{ kind: 'status', status: 500 }, 1],
        [{ kind: '429', retryAfter: 1 }, 1],
        [{ kind: '429', retryAfter: 3600 }, 0.5],
        [{ kind: 'stall-headers' }, 1],
        [{ kind: 'stall-body' }, 1],
        [{ kind: 'json-string' }, 0.5],
        [{ kind: 'html' }, 0.5],
        [{ kind: 'empty-object' }, 0.5],
        [{ kind: 'truncated' }, 0.5],
      ];
      const total = kinds.reduce((sum, [, w]) => sum + w, 0);
      proxy.reset();
      proxy.script = () => {
        if (random() >= 1 / 15) return undefined;
        let pick = random() * total;
        for (const [fault, weight] of kinds) {
          pick -= weight;
          if (pick < 0) return fault;
        }
        return undefined;
      };
      const cycles = 100;
      const figures = { cycles, successes: 0, existed: 0, errors: {} as Record<string, number>, maxMs: 0, faults: {} as Record<string, number> };
      const bad: string[] = [];
      const examples: Record<string, string> = {};
      const keys = new Map<string, string>();
      let deploymentId: string | undefined;
      const started = Date.now();
      for (let cycle = 0; cycle < cycles; cycle += 1) {
        const runId = `${seed}-${cycle}`;
        const t0 = Date.now();
        const { result } = await runConfig({ dir: tempDir('cfg'), yaml: config(name), env: {}, ci: ci(runId) });
        const ms = Date.now() - t0;
        figures.maxMs = Math.max(figures.maxMs, ms);
        deploymentId ??= result.deployment?.id;
        if (!result.error) {
          figures.successes += 1;
          if (!result.run!.created) figures.existed += 1;
          keys.set(`lolpop-deploy/${repository}/${runId}/1/${name}`, result.run!.id);
          continue;
        }
        const message = result.error.message;
        const kind = errorKind(message);
        figures.errors[kind] = (figures.errors[kind] ?? 0) + 1;
        examples[kind] ??= message;
        if (kind === 'other' || message.includes('\n') || message.includes('undefined') || !message.startsWith('Failed to ')) bad.push(`cycle ${cycle}: ${message}`);
        // One call's budget is 6 s; a cycle makes about seven calls, and only a failing one can use it all.
        if (ms > 6000 + 7 * 1000) bad.push(`cycle ${cycle} took ${ms} ms: ${message}`);
      }
      for (const entry of proxy.log) if (entry.fault) figures.faults[entry.fault] = (figures.faults[entry.fault] ?? 0) + 1;
      proxy.reset();
      const elapsed = Date.now() - started;

      // On the real server: one flow run per idempotency key, and each success's run among them.
      expect(deploymentId).toBeDefined();
      const runs = await prefectApi<Array<{ id: string; idempotency_key: string | null }>>(apiUrl!, 'POST', 'flow_runs/filter', {
        flow_runs: { deployment_id: { any_: [deploymentId] } },
        limit: 200,
      });
      const perKey = new Map<string, number>();
      for (const run of runs) perKey.set(run.idempotency_key ?? run.id, (perKey.get(run.idempotency_key ?? run.id) ?? 0) + 1);
      const duplicates = [...perKey.values()].filter((n) => n > 1).length;
      console.log(
        `fault loop (seed ${seed}): ${figures.cycles} cycles in ${(elapsed / 1000).toFixed(1)} s, ${figures.successes} successes ` +
          `(${figures.existed} found their run already created), errors by kind ${JSON.stringify(figures.errors)}, ` +
          `max cycle ${figures.maxMs} ms, faults injected ${JSON.stringify(figures.faults)}, ` +
          `flow runs on the server ${runs.length}, duplicate flow runs ${duplicates}`,
      );
      for (const [kind, message] of Object.entries(examples)) console.log(`  ${kind}, e.g.: ${message}`);
      expect(bad).toEqual([]);
      expect(duplicates).toBe(0);
      expect(runs.length).toBeLessThanOrEqual(cycles);
      const ids = new Set(runs.map((r) => r.id));
      for (const [key, id] of keys) {
        expect(ids.has(id), key).toBe(true);
        expect(runs.find((r) => r.id === id)?.idempotency_key).toBe(key);
      }
      expect(figures.successes + Object.values(figures.errors).reduce((a, b) => a + b, 0)).toBe(cycles);
      expect(figures.successes).toBeGreaterThan(cycles / 2);
      await fetch(`${apiUrl}/deployments/${deploymentId}`, { method: 'DELETE' });
      // Only a hang guard: each cycle's own bound is checked above. 100 cycles took 101 s on a
      // quiet CI run and over 120 s once the Kubernetes node and its worker shared the cores.
    }, 300_000);
  });
});

/** What an error line says went wrong, for the loop's counts. */
function errorKind(message: string): string {
  if (/ hung: .* did not answer in /.test(message)) return 'hung';
  if (/ hung: the answer to /.test(message)) return 'stalled body';
  if (/ dropped the connection /.test(message)) return 'dropped';
  if (/asked to wait \d+ s \(Retry-After\)/.test(message)) return 'retry-after too long';
  if (/Prefect answered 5\d\d/.test(message)) return 'server error';
  if (/with HTML, not JSON|not valid JSON|an unexpected body/.test(message)) return 'malformed answer';
  if (/cannot reach/.test(message)) return 'cannot reach';
  return 'other';
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
