import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { AirflowApi } from '../../src/orchestrators/airflow/api.js';
import { AirflowClient } from '../../src/orchestrators/airflow/client.js';
import { FaultProxy, faultName, type Fault } from '../helpers/fault-proxy.js';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { airflowService, writeTinyWorkflow } from './helpers.js';

const airflow = airflowService();
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };

/** request_timeout 3 s: each try 1.5 s, the whole call 3 s (src/http/limits.ts). */
const LIMITS = { timeoutMs: 3000, backoffLimitMs: 300 };
/** Every call must end by its budget; a little slack for the machine. */
const BOUND_MS = LIMITS.timeoutMs + 1000;

describe.skipIf(!airflow)('the Airflow client through a fault-injecting proxy in front of a real Airflow 3', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await new FaultProxy(airflow!.url).start();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  function api(logger = new MemoryLogger()): AirflowApi {
    // The API named (as by a URL ending in /api/v2): these exchanges start with the call under test, not the version probe.
    const connection = { baseUrl: proxy.url, apiVersion: 'v2' as const, username: airflow!.username, password: airflow!.password, uiUrl: proxy.url };
    return new AirflowApi(new AirflowClient(connection, { logger, ...LIMITS }));
  }

  async function timed<T>(call: () => Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> {
    const started = Date.now();
    try {
      return { value: await call(), ms: Date.now() - started };
    } catch (error) {
      return { error: error as Error, ms: Date.now() - started };
    }
  }

  const dags = /^GET \/api\/v2\/dags$/;

  describe('a stalled server fails within the bound, saying it hung', () => {
    it('a server that accepts and never answers', async () => {
      proxy.reset();
      proxy.script = (r) => (r.path === '/api/v2/dags' ? { kind: 'stall-headers' } : undefined);
      const outcome = await timed(() => api().anyDagOfBundle('dags-folder'));
      const log = proxy.log.map((l) => l.fault ?? 'forwarded');
      proxy.reset();
      expect(outcome.error?.message).toMatch(
        new RegExp(`^Failed to list the DAGs of bundle 'dags-folder': the Airflow API at ${escape(proxy.url)} hung: GET /api/v2/dags did not answer in 1\\.5 s \\(2 tries in 3(\\.\\d)? s\\)$`),
      );
      expect(outcome.ms).toBeLessThan(BOUND_MS);
      expect(log).toEqual(['forwarded', 'stall-headers', 'stall-headers']); // the login, then two tries
    });

    it('a body that stops half-way', async () => {
      // The first try's body stalls for its 1.5 s; the second's is cut short by the call's 3 s budget, which the message names.
      proxy.reset();
      proxy.script = (r) => (r.path === '/api/v2/dags' ? { kind: 'stall-body' } : undefined);
      const outcome = await timed(() => api().anyDagOfBundle('dags-folder'));
      proxy.reset();
      expect(outcome.error?.message).toMatch(
        new RegExp(`^Failed to list the DAGs of bundle 'dags-folder': the Airflow API at ${escape(proxy.url)} was too slow: the answer to GET /api/v2/dags was not complete when the 3 s budget ran out \\(nothing had arrived for 1(\\.\\d)? s\\) \\(2 tries in 3(\\.\\d)? s\\)$`),
      );
      expect(outcome.ms).toBeLessThan(BOUND_MS);
    });

    it('through the pipeline: orchestrator.config.request_timeout bounds each call, the login included', async () => {
      proxy.reset();
      proxy.script = () => ({ kind: 'stall-headers' });
      const dir = tempDir('airflow');
      const name = `tiny-hung-${randomUUID().slice(0, 6)}`;
      const yaml = writeTinyWorkflow(dir, { name, dagsFolder: airflow!.dagsFolder }).replace('    parse_timeout: 90s\n', '    parse_timeout: 90s\n    request_timeout: 2s\n');
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, AIRFLOW_API_URL: `${proxy.url}/api/v2`, AIRFLOW_USERNAME: airflow!.username, AIRFLOW_PASSWORD: airflow!.password };
      const started = Date.now();
      const { result, logger } = await runConfig({ dir, yaml, env, ci: ciContext({ repository: 'acme/tiny', runId: randomUUID() }), steps: 'run', overrides: AIRFLOW });
      const ms = Date.now() - started;
      proxy.reset();
      expect(result.error?.message).toMatch(
        new RegExp(`^Failed to read the DAG '${name}' \\(log in as ${escape(airflow!.username)}\\): the Airflow API at ${escape(proxy.url)} hung: POST /auth/token did not answer in 1 s( \\(2 tries in 2(\\.\\d)? s\\))?$`),
      );
      expect(ms).toBeLessThan(2000 + 1500);
      expect(logger.rawLines.join('\n')).not.toContain(airflow!.password);
    });
  });

  describe('a transient fault is retried and the call succeeds', () => {
    const transient: Fault[] = [{ kind: 'status', status: 503 }, { kind: 'status', status: 502 }, { kind: '429', retryAfter: 1 }, { kind: 'reset' }, { kind: 'stall-headers' }];
    it.each(transient.map((f) => [faultName(f), f] as const))('%s, then the server', async (_name, fault) => {
      proxy.reset();
      proxy.once(fault, dags);
      const outcome = await timed(() => api().anyDagOfBundle('dags-folder'));
      const log = proxy.log.map((l) => `${l.method} ${l.path} ${l.fault ?? 'forwarded'}`);
      proxy.reset();
      expect(outcome.error).toBeUndefined();
      expect(outcome.ms).toBeLessThan(BOUND_MS);
      expect(log).toEqual(['POST /auth/token forwarded', `GET /api/v2/dags ${faultName(fault)}`, 'GET /api/v2/dags forwarded']);
    });

    it('a 500 on a read is repeated (a SQLite lock wait), on a trigger without its own run id it is not', async () => {
      proxy.reset();
      proxy.once({ kind: 'status', status: 500 }, dags);
      expect((await timed(() => api().anyDagOfBundle('dags-folder'))).error).toBeUndefined();
      proxy.reset();
      proxy.once({ kind: 'status', status: 500 }, /^POST \/api\/v2\/dags\/.*\/dagRuns$/);
      const outcome = await timed(() => api().triggerRun('no-such-dag', null, {}));
      const posts = proxy.log.filter((l) => l.method === 'POST' && l.path.endsWith('/dagRuns')).length;
      proxy.reset();
      expect(outcome.error?.message).toBe("Failed to trigger a run of the DAG 'no-such-dag': Airflow answered 500: injected 500 (POST /api/v2/dags/no-such-dag/dagRuns)");
      expect(posts).toBe(1);
    });
  });

  describe('a malformed 200 is one clear line', () => {
    const cases: Array<[string, Fault, string | RegExp]> = [
      [
        'an empty object for a DAG',
        { kind: 'empty-object' },
        "Failed to read the DAG 'any': Airflow answered 200 to GET /api/v2/dags/any with an unexpected body (dag_id: missing (expected string); is_paused: missing (expected boolean)): {}",
      ],
      [
        'an HTML page',
        { kind: 'html' },
        "Failed to read the DAG 'any': Airflow answered 200 to GET /api/v2/dags/any with HTML, not JSON (<!doctype html><html><head><title>Prefect</title></head><body><div id=\"app\"></di…); is AIRFLOW_API_URL the API server's root (e.g. http://airflow.internal:8080), not a page of another site?",
      ],
      ['a JSON string', { kind: 'json-string' }, "Failed to read the DAG 'any': Airflow answered 200 to GET /api/v2/dags/any with an unexpected body (expected an object, got a string): \"ok\""],
    ];
    it.each(cases)('%s', async (_name, fault, message) => {
      proxy.reset();
      proxy.once(fault, /^GET \/api\/v2\/dags\/any$/);
      const outcome = await timed(() => api().readDag('any'));
      proxy.reset();
      expect(outcome.error?.message).toBe(message);
    });

    it('truncated JSON', async () => {
      proxy.reset();
      proxy.once({ kind: 'truncated' }, dags);
      const outcome = await timed(() => api().anyDagOfBundle('dags-folder'));
      proxy.reset();
      expect(outcome.error?.message).toMatch(/^Failed to list the DAGs of bundle 'dags-folder': Airflow answered 200 to GET \/api\/v2\/dags with a body that is not valid JSON \([^)]+\): \{"/);
      expect(outcome.error?.message).not.toContain('\n');
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
