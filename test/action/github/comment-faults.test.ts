import Bottleneck from 'bottleneck';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../../../src/action/github/client.js';
import { commentOnPullRequest } from '../../../src/action/github/pr-comment.js';
import type { CiContext } from '../../../src/ci-context.js';
import { describeError } from '../../../src/errors.js';
import { MemoryLogger } from '../../../src/logger.js';
import { FaultProxy, faultName, seededRandom, type Fault } from '../../helpers/fault-proxy.js';
import { GITHUB_TOKEN, GitHubApiServer } from './api-server.js';
import { ciFor, markerOf, PR, REPOSITORY, seedPullRequests } from './events.js';

/** Short limits, so that a fault costs about a second: 1 s per try, 4 s per write. */
const LIMITS = { tryTimeoutMs: 1000, budgetMs: 4000 };
/** A write ends by its budget, plus the retry plugin's last wait (4 × 20 ms) and some slack. */
const WRITE_BOUND_MS = LIMITS.budgetMs + 1000;

// The sticky comment through a fault-injecting proxy in front of the GitHub stand-in
// (which checks every request and answer against GitHub's OpenAPI description), with
// the real Octokit, retry and throttling plugins.
describe('the sticky PR comment through a fault-injecting proxy', { timeout: 300_000 }, () => {
  let api: GitHubApiServer;
  let proxy: FaultProxy;
  let ci: CiContext;

  beforeAll(async () => {
    api = await GitHubApiServer.start();
    seedPullRequests(api);
    proxy = await new FaultProxy(api.urls.api).start();
    ci = { ...ciFor('pull_request.opened', api), apiUrl: proxy.url };
  });
  afterAll(async () => {
    await proxy?.close();
    await api?.close();
  });

  /** One write as the action makes it: its own client, bounded, retries 20 ms apart, writes not spaced. */
  async function write(key: string, body: string, logger = new MemoryLogger()) {
    return commentOnPullRequest(
      () =>
        createGitHubClient(GITHUB_TOKEN, ci.apiUrl, logger, {
          limits: LIMITS,
          retryBaseMs: 20,
          writeGroup: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }),
        }),
      { mode: 'auto', ci, key, body },
      logger,
    );
  }

  async function timed<T>(call: () => Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> {
    const started = Date.now();
    try {
      return { value: await call(), ms: Date.now() - started };
    } catch (error) {
      return { error: error as Error, ms: Date.now() - started };
    }
  }

  describe('a fault on every try: one clear line within the bound', () => {
    const list = /^GET \/api\/v3\/repos\/acme\/quickstart\/issues\/7\/comments$/;
    const cases: Array<[string, Fault, RegExp]> = [
      ['hung', { kind: 'stall-headers' }, /^Failed to comment on pull request #7: the GitHub API hung: GET \/api\/v3\/repos\/acme\/quickstart\/issues\/7\/comments did not answer in 1 s$/],
      ['a body that stops', { kind: 'stall-body' }, /^Failed to comment on pull request #7: the GitHub API hung: the answer to GET \/api\/v3\/repos\/acme\/quickstart\/issues\/7\/comments stopped for 1 s before its end$/],
      ['503', { kind: 'status', status: 503 }, /^Failed to comment on pull request #7: GitHub answered 503 to GET \/api\/v3\/repos\/acme\/quickstart\/issues\/7\/comments: /],
      ['reset', { kind: 'reset' }, /^Failed to comment on pull request #7: .+ \(GET \/api\/v3\/repos\/acme\/quickstart\/issues\/7\/comments\)$/],
      ['an HTML page', { kind: 'html' }, /^Failed to comment on pull request #7: GitHub answered GET \/repos\/acme\/quickstart\/issues\/7\/comments with HTML, not JSON; is GITHUB_API_URL the API\?: <!doctype html>/],
      ['a JSON string', { kind: 'json-string' }, /^Failed to comment on pull request #7: GitHub answered GET \/repos\/acme\/quickstart\/issues\/7\/comments with an unexpected body \(body: .+\): "?ok"?$/],
      ['truncated JSON', { kind: 'truncated' }, /^Failed to comment on pull request #7: GitHub answered GET \/repos\/acme\/quickstart\/issues\/7\/comments with an unexpected body \(body: .+\): /],
    ];
    it.each(cases)('%s', async (_name, fault, message) => {
      proxy.reset();
      proxy.script = (r) => (list.test(`${r.method} ${r.path}`) ? fault : undefined);
      const outcome = await timed(() => write(`faults-${faultName(fault)}`, 'never written'));
      proxy.reset();
      expect(outcome.value).toBeUndefined();
      expect(describeError(outcome.error)).toMatch(message);
      expect(describeError(outcome.error)).not.toContain('\n');
      expect(outcome.ms).toBeLessThan(WRITE_BOUND_MS);
    });
  });

  it('a create whose answer is lost is retried by Octokit, and the duplicate it made is removed: one comment', async () => {
    proxy.reset();
    proxy.once({ kind: 'drop-after' }, /^POST /);
    const outcome = await write('lost-answer', 'written once');
    const creates = proxy.log.filter((l) => l.method === 'POST').map((l) => l.fault ?? 'forwarded');
    proxy.reset();
    expect(creates).toEqual(['drop-after', 'forwarded']);
    expect(outcome).toMatchObject({ status: 'written' });
    const ours = api.commentsOn(REPOSITORY, PR).filter((c) => c.body.startsWith(markerOf('lost-answer')));
    expect(ours.map((c) => c.body)).toEqual([`${markerOf('lost-answer')}\nwritten once`]);
  });

  it('100 progress + final writes with seeded random faults: each a success or one clear line, 0 duplicate comments', async () => {
    const seed = Number(process.env.FAULT_SEED ?? 20261201);
    const random = seededRandom(seed);
    const kinds: Array<[Fault, number]> = [
      [{ kind: 'reset' }, 3],
      [{ kind: 'drop-after' }, 4],
      [{ kind: 'status', status: 500 }, 1],
      [{ kind: 'status', status: 502 }, 2],
      [{ kind: 'status', status: 503 }, 2],
      [{ kind: '429', retryAfter: 1 }, 1],
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
      if (random() >= 1 / 10) return undefined;
      let pick = random() * total;
      for (const [fault, weight] of kinds) {
        pick -= weight;
        if (pick < 0) return fault;
      }
      return undefined;
    };
    const cycles = 100;
    /** Ten deployments in one PR, each written ten times over (re-runs, new pushes). */
    const keys = Array.from({ length: 10 }, (_, i) => `loop-${seed}-${i}`);
    const figures = { cycles, successes: 0, errors: {} as Record<string, number>, maxWriteMs: 0, duplicatesSeen: 0 };
    const lastFinal = new Map<string, string | undefined>();
    const bad: string[] = [];
    const examples: Record<string, string> = {};
    const started = Date.now();
    for (let cycle = 0; cycle < cycles; cycle += 1) {
      const key = keys[cycle % keys.length]!;
      const final = `✅ cycle ${cycle}`;
      let failed: string | undefined;
      for (const body of [`⏳ cycle ${cycle}`, final]) {
        const outcome = await timed(() => write(key, body));
        figures.maxWriteMs = Math.max(figures.maxWriteMs, outcome.ms);
        if (outcome.ms > WRITE_BOUND_MS) bad.push(`cycle ${cycle} took ${outcome.ms} ms`);
        if (outcome.error || outcome.value?.status !== 'written') {
          failed = outcome.error ? describeError(outcome.error) : JSON.stringify(outcome.value);
          break;
        }
      }
      const mine = api.commentsOn(REPOSITORY, PR).filter((c) => c.body.startsWith(`${markerOf(key)}\n`));
      if (mine.length > 1) figures.duplicatesSeen += 1;
      if (!failed) {
        figures.successes += 1;
        lastFinal.set(key, final);
        // After a successful write: exactly one comment for the key, with this body.
        if (mine.length !== 1 || mine[0]!.body !== `${markerOf(key)}\n${final}`) bad.push(`cycle ${cycle}: ${mine.length} comments for ${key} after a successful write`);
        continue;
      }
      lastFinal.set(key, undefined);
      const kind = errorKind(failed);
      figures.errors[kind] = (figures.errors[kind] ?? 0) + 1;
      examples[kind] ??= failed;
      if (kind === 'other' || failed.includes('\n') || failed.includes('undefined')) bad.push(`cycle ${cycle}: ${failed}`);
    }
    const faults: Record<string, number> = {};
    for (const entry of proxy.log) if (entry.fault) faults[entry.fault] = (faults[entry.fault] ?? 0) + 1;
    const requests = proxy.log.length;
    proxy.reset();
    const left = keys.map((key) => api.commentsOn(REPOSITORY, PR).filter((c) => c.body.startsWith(`${markerOf(key)}\n`)).length);
    console.log(
      `GitHub fault loop (seed ${seed}): ${cycles} cycles (progress + final write) in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `${requests} requests, ${figures.successes} successes, errors by kind ${JSON.stringify(figures.errors)}, max write ${figures.maxWriteMs} ms, ` +
        `faults injected ${JSON.stringify(faults)}, cycles ending with a duplicate ${figures.duplicatesSeen}, comments per deployment at the end ${JSON.stringify(left)}`,
    );
    for (const [kind, message] of Object.entries(examples)) console.log(`  ${kind}, e.g.: ${message}`);
    expect(bad).toEqual([]);
    expect(api.violations).toEqual([]);
    expect(figures.duplicatesSeen).toBe(0);
    expect(left.every((n) => n <= 1)).toBe(true);
    expect(figures.successes).toBeGreaterThan(cycles / 2);
  });
});

/** What an error line says went wrong, for the loop's counts. */
function errorKind(message: string): string {
  if (/ hung: /.test(message)) return 'hung';
  // Faults one after another (a stall, then a reset on the retry) can use up the write's
  // budget, most often on a loaded machine: that ends in this one line, by design.
  if (/: GitHub took more than the \d+ s one comment may take$/.test(message)) return 'over budget';
  if (/GitHub answered 5\d\d|GitHub answered 429/.test(message)) return 'server error';
  if (/with HTML, not JSON|an unexpected body/.test(message)) return 'malformed answer';
  if (/\((GET|POST|PATCH|DELETE) \/api\/v3\//.test(message)) return 'dropped';
  return 'other';
}
