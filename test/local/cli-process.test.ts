import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/orchestrators/local/state.js';
import { copyExample, REPO } from './example.js';
import { alive, SLEEPER, sleeperPids, until } from './project.js';

/**
 * The CLI as users run it, in its own process, so that real signals reach it. Built from
 * src with rolldown (vite's bundler, already installed) into a temp dir: dist/ is not touched.
 */
let cli = '';
let driver = '';
beforeAll(() => {
  const out = mkdtempSync(path.join(tmpdir(), 'lolpop-cli-'));
  const bundle = (entry: string, file: string) => {
    execFileSync(path.join(REPO, 'node_modules/.bin/rolldown'), [entry, '--platform', 'node', '--format', 'esm', '--no-codeSplitting', '--file', file], { cwd: REPO, stdio: 'pipe' });
    return file;
  };
  cli = bundle('src/cli.ts', path.join(out, 'cli.js'));
  driver = bundle('test/local/concurrent-driver.ts', path.join(out, 'driver.js'));
}, 60_000);

interface Cli {
  pid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `runId` becomes GITHUB_RUN_ID, hence the run's default idempotency key. */
function startCli(dir: string, args: string[], runId = ''): Cli {
  const env = { ...process.env, GITHUB_ACTIONS: '', GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: '1', GITHUB_REPOSITORY: 'acme/qs' };
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { pid: child.pid!, output: () => output, exited };
}

/** The quickstart with slow.yaml: a deployment whose flow (SLEEPER) starts `sleep` and sleeps. */
function slowProject(): string {
  const dir = copyExample('quickstart');
  writeFileSync(path.join(dir, 'slow.py'), SLEEPER);
  const yaml = readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8').replace('lolpop_install_location: ""', 'lolpop_install_location: ""\n      flow_entrypoint: slow.py:main');
  writeFileSync(path.join(dir, 'slow.yaml'), yaml);
  return dir;
}

function runs(dir: string): RunRecord[] {
  const root = path.join(dir, '.lolpop-deploy/runs');
  return readdirSync(root).map((id) => JSON.parse(readFileSync(path.join(root, id, 'run.json'), 'utf8')) as RunRecord);
}

describe('lolpop-deploy up in its own process (the bundled CLI)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s to the CLI during a local run: no Python left, the run CANCELLED, the CLI ends by that signal', async (signal) => {
    const dir = slowProject();
    const up = startCli(dir, ['up', '-c', 'slow.yaml']);
    expect(await until(() => /pids \d+ \d+/.test(up.output()), 15_000)).toBe(true);
    const pids = sleeperPids(up.output());
    const sent = Date.now();
    process.kill(up.pid, signal);
    expect(await up.exited).toEqual({ code: null, signal });
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(pids.filter(alive)).toEqual([]);
    const [run] = runs(dir);
    expect(run).toMatchObject({ state: 'CANCELLED', signal: 'SIGTERM', error: `lolpop-deploy received ${signal} and stopped the run: killed by SIGTERM` });
    expect(up.output()).toContain(`warning: Received ${signal}: stopping run ${run!.id}`);
    expect(readFileSync(path.join(dir, '.lolpop-deploy/runs', run!.id, 'report.html'), 'utf8')).toContain('<span class="state">CANCELLED</span>');
  }, 30_000);

  it('SIGTERM to the CLI running two workflows at once: both runs CANCELLED, no Python left, the CLI ends by SIGTERM', async () => {
    const dir = slowProject();
    const yaml = readFileSync(path.join(dir, 'slow.yaml'), 'utf8');
    writeFileSync(path.join(dir, 'slow_b.yaml'), yaml.replace('name: quickstart', 'name: quickstart-b'));
    const up = startCli(dir, ['up', '-c', 'slow.yaml,slow_b.yaml']);
    expect(await until(() => (up.output().match(/pids \d+ \d+/g) ?? []).length >= 2, 15_000)).toBe(true);
    const pids = [...new Set([...up.output().matchAll(/pids (\d+) (\d+)/g)].flatMap((m) => [Number(m[1]), Number(m[2])]))];
    expect(pids).toHaveLength(4);
    process.kill(up.pid, 'SIGTERM');
    expect(await up.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(pids.filter(alive)).toEqual([]);
    expect(runs(dir).map((r) => [r.deployment, r.state, r.signal]).sort()).toEqual([
      ['quickstart', 'CANCELLED', 'SIGTERM'],
      ['quickstart-b', 'CANCELLED', 'SIGTERM'],
    ]);
  }, 30_000);

  it('--wait --wait-timeout stops a long run at the timeout and fails naming the signal', async () => {
    const dir = slowProject();
    const started = Date.now();
    const up = startCli(dir, ['up', '-c', 'slow.yaml', '--wait', '--wait-timeout', '2s']);
    const { code } = await up.exited;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(1);
    expect(up.output()).toMatch(/ended CANCELLED \(the wait-timeout of 2\.0 s was reached and lolpop-deploy stopped the run: killed by SIGTERM\)/);
    expect(sleeperPids(up.output()).filter(alive)).toEqual([]);
  }, 30_000);

  it('SIGKILL to the CLI: the run ends itself (its launcher watches its parent); the retry with the same key finds the record CRASHED', async () => {
    const dir = slowProject();
    const up = startCli(dir, ['up', '-c', 'slow.yaml'], '4242');
    expect(await until(() => /pids \d+ \d+/.test(up.output()), 15_000)).toBe(true);
    const pids = sleeperPids(up.output());
    process.kill(up.pid, 'SIGKILL');
    await up.exited;
    expect(await until(() => !pids.some(alive), 5000)).toBe(true);
    expect(runs(dir)[0]!.state).toBe('RUNNING');
    const started = Date.now();
    const retry = startCli(dir, ['up', '-c', 'slow.yaml', '--wait', '--wait-timeout', '60s'], '4242');
    const { code } = await retry.exited;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(1);
    expect(retry.output()).toMatch(/was recorded RUNNING, but its processes are gone/);
    expect(retry.output()).toMatch(/ended CRASHED \(its processes are gone/);
    expect(runs(dir)).toEqual([expect.objectContaining({ state: 'CRASHED' })]);
  }, 40_000);

  it('4 processes × 25 concurrent deploy+run each, all at once in one project: no errors, 100 runs COMPLETED, every record whole', async () => {
    const dir = copyExample('quickstart');
    const drivers = Array.from({ length: 4 }, (_, p) => {
      const child = spawn(process.execPath, [driver, dir, `p${p}`, '25'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (data: Buffer) => (out += data.toString()));
      child.stderr.on('data', (data: Buffer) => (out += data.toString()));
      return new Promise<string>((resolve) => child.on('close', () => resolve(out)));
    });
    const reports = (await Promise.all(drivers)).map((out) => JSON.parse(out.trim().split('\n').pop()!) as { ok: number; errors: string[] });
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    expect(reports.map((r) => r.ok)).toEqual([25, 25, 25, 25]);
    const all = runs(dir);
    expect(all).toHaveLength(100);
    expect(all.every((r) => r.state === 'COMPLETED')).toBe(true);
    expect(new Set(all.map((r) => r.idempotencyKey)).size).toBe(100);
    // No temp file was left behind.
    expect(readdirSync(path.join(dir, '.lolpop-deploy'), { recursive: true }).filter((f) => String(f).endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it('25 concurrent `up` processes in one project: no errors', async () => {
    const dir = copyExample('quickstart');
    // Five deployments shared by five processes each; every run has its own key, so each scans the others' records.
    const ups = Array.from({ length: 25 }, (_, i) => startCli(dir, ['up', '-c', 'lolpop.yaml', '-n', `qs-${i % 5}`], `77${String(i).padStart(2, '0')}`));
    const results = await Promise.all(ups.map(async (up) => ({ up, ...(await up.exited) })));
    expect(results.filter((r) => r.code !== 0).map((r) => r.up.output())).toEqual([]);
    expect(runs(dir).filter((r) => r.state === 'COMPLETED')).toHaveLength(25);
    expect(existsSync(path.join(dir, '.lolpop-deploy/deployments/qs-4.json'))).toBe(true);
  }, 120_000);
});
