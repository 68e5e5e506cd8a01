import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RunEndedError } from '../../src/errors.js';
import { currentOwner, startTicks, type RunRecord } from '../../src/orchestrators/local/state.js';
import { alive, deadPid, localProject, SLEEPER, sleeperPids, until } from './project.js';

function runDir(url: string): string {
  return path.dirname(fileURLToPath(url));
}
function readRecord(url: string): RunRecord {
  return JSON.parse(readFileSync(path.join(runDir(url), 'run.json'), 'utf8')) as RunRecord;
}

describe('LocalOrchestrator: a run is a process with a lifecycle', () => {
  it('with wait, the run stops at the wait-timeout: CANCELLED, its whole process group gone, and wait says why', async () => {
    const { deployFlow, wait } = localProject({ killGraceMs: 2000 });
    const { run } = await deployFlow('sleeper', SLEEPER);
    const started = Date.now();
    const result = await run({ wait: true, wait_timeout: 1000 });
    const took = Date.now() - started;
    // 1 s, plus Python's start and the SIGTERM: well inside the 2 s grace before SIGKILL.
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(3000);
    expect(result).toMatchObject({ state: 'CANCELLED', created: true });
    const record = readRecord(result.url);
    expect(record).toMatchObject({ state: 'CANCELLED', signal: 'SIGTERM' });
    expect(record.exitCode).toBeUndefined();
    expect(record.error).toBe('the wait-timeout of 1.0 s was reached and lolpop-deploy stopped the run: killed by SIGTERM');
    const pids = sleeperPids(readFileSync(path.join(runDir(result.url), 'log.txt'), 'utf8'));
    expect(pids).toHaveLength(2);
    // The flow's process and the `sleep` it started (same group) are both gone.
    expect(await until(() => !pids.some(alive), 1000)).toBe(true);
    const error = (await wait(result).catch((e: unknown) => e)) as RunEndedError;
    expect(error).toBeInstanceOf(RunEndedError);
    expect(error.message.split('\n')[0]).toBe(
      `Run ${result.id} of sleeper ended CANCELLED (the wait-timeout of 1.0 s was reached and lolpop-deploy stopped the run: killed by SIGTERM): pids ${pids[0]} ${pids[1]}`,
    );
    expect(error.message).not.toContain('exit code null');
    expect(error.result.state).toBe('CANCELLED');
    const html = readFileSync(path.join(runDir(result.url), 'report.html'), 'utf8');
    expect(html).toContain('<span class="state">CANCELLED</span>');
    expect(html).toContain('killed by SIGTERM');
  });

  it('a run that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
    const { deployFlow } = localProject({ killGraceMs: 500 });
    const { run } = await deployFlow('stubborn', SLEEPER);
    const started = Date.now();
    // 1.5 s: the flow must have ignored SIGTERM before it comes (Python starts slowly on a busy machine).
    const result = await run({ wait: true, wait_timeout: 1500, parameters: { ignore_term: true } });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(readRecord(result.url)).toMatchObject({ state: 'CANCELLED', signal: 'SIGKILL' });
    expect(readRecord(result.url).error).toMatch(/stopped the run: killed by SIGKILL$/);
    const pids = sleeperPids(readFileSync(path.join(runDir(result.url), 'log.txt'), 'utf8'));
    expect(await until(() => !pids.some(alive), 1000)).toBe(true);
  });

  it('without wait, the wait-timeout does not apply: the run goes to the end', async () => {
    const { deployFlow } = localProject();
    const { run } = await deployFlow('short', 'import time\ndef main():\n    time.sleep(1.2)\n    print("done")\n');
    const result = await run({ wait: false, wait_timeout: 500 });
    expect(result.state).toBe('COMPLETED');
  });

  it('a SIGTERM to lolpop-deploy during a run stops its group, records CANCELLED, then ends lolpop-deploy with it; handlers last only the run', async () => {
    const signals = new EventEmitter();
    const raised: string[] = [];
    const { deployFlow, logger } = localProject({ signals, killGraceMs: 2000, onSignalled: (s) => raised.push(s) });
    const { run } = await deployFlow('sleeper', SLEEPER);
    const before = process.listenerCount('SIGTERM');
    const running = run().catch((e: unknown) => e);
    expect(await until(() => logger.lines.some((l) => /pids \d+ \d+/.test(l)), 5000)).toBe(true);
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    expect(signals.listenerCount('SIGINT')).toBe(1);
    const pids = sleeperPids(logger.lines.join('\n'));
    signals.emit('SIGTERM', 'SIGTERM');
    const error = (await running) as RunEndedError;
    expect(error).toBeInstanceOf(RunEndedError);
    expect(error.message).toMatch(/^Run \S+ of sleeper CANCELLED: lolpop-deploy received SIGTERM; report: file:/);
    expect(error.result.state).toBe('CANCELLED');
    expect(readRecord(error.result.url)).toMatchObject({ state: 'CANCELLED', signal: 'SIGTERM', error: 'lolpop-deploy received SIGTERM and stopped the run: killed by SIGTERM' });
    expect(raised).toEqual(['SIGTERM']);
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(await until(() => !pids.some(alive), 1000)).toBe(true);
  });

  it('several runs in flight in one process (many workflows): one SIGTERM stops them all gracefully, the signal is raised once, after the last is recorded', async () => {
    const signals = new EventEmitter();
    const raised: string[] = [];
    const { deployFlow, logger } = localProject({ signals, killGraceMs: 3000, onSignalled: (s) => raised.push(s) });
    const a = await deployFlow('sleeper_a', SLEEPER);
    const b = await deployFlow('sleeper_b', SLEEPER);
    const runs = [a.run().catch((e: unknown) => e), b.run().catch((e: unknown) => e)];
    expect(await until(() => logger.lines.filter((l) => /pids \d+ \d+/.test(l)).length === 2, 5000)).toBe(true);
    // One listener for both runs.
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    signals.emit('SIGTERM', 'SIGTERM');
    // While they stop, no new run starts.
    await expect(a.run()).rejects.toThrow(/^Not starting a run of sleeper_a: lolpop-deploy received SIGTERM and is stopping$/);
    const errors = (await Promise.all(runs)) as RunEndedError[];
    for (const error of errors) {
      expect(error).toBeInstanceOf(RunEndedError);
      expect(readRecord(error.result.url)).toMatchObject({ state: 'CANCELLED', signal: 'SIGTERM' });
    }
    expect(raised).toEqual(['SIGTERM']);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    const pids = [...new Set([...logger.lines.join('\n').matchAll(/pids (\d+) (\d+)/g)].flatMap((m) => [Number(m[1]), Number(m[2])]))];
    expect(pids).toHaveLength(4);
    expect(await until(() => !pids.some(alive), 1000)).toBe(true);
    // Once it has been raised, runs may start again (a process that survived it).
    const { run } = await deployFlow('short', 'def main():\n    print("again")\n');
    expect((await run()).state).toBe('COMPLETED');
  });

  it('the default signal source is this process, and its handlers are removed after the run', async () => {
    const { deployFlow, logger } = localProject();
    const { run } = await deployFlow('short', 'def main():\n    print("hello")\n');
    const before = ['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s));
    const expected = [before[0]! + 1, before[1]! + 1, before[2]!];
    let during: number[] = [];
    const running = run();
    // run() installs them synchronously up to the spawn; look while it runs.
    await until(() => (during = ['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s)))[0]! > before[0]!, 2000);
    // SIGHUP is left alone (nohup's ignoring it stays in force).
    expect(during).toEqual(expected);
    expect((await running).state).toBe('COMPLETED');
    expect(['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s))).toEqual(before);
    expect(logger.lines).toContain('info: hello');
  });

  it('a run killed by a signal lolpop-deploy did not send is CRASHED, named by its signal', async () => {
    const { deployFlow, wait } = localProject();
    const { run } = await deployFlow('oom', 'import os, signal\ndef main():\n    print("about to die", flush=True)\n    os.kill(os.getpid(), signal.SIGKILL)\n');
    const result = await run();
    expect(result.state).toBe('CRASHED');
    expect(readRecord(result.url)).toMatchObject({ state: 'CRASHED', signal: 'SIGKILL' });
    const message = ((await wait(result).catch((e: unknown) => e)) as Error).message;
    expect(message.split('\n')[0]).toMatch(/ended CRASHED \(killed by SIGKILL, a signal lolpop-deploy did not send \(out of memory, or killed from outside\)\): about to die$/);
    expect(message).not.toContain('null');
  });

  it('a Python path Node refuses to start (a NUL byte) fails clearly and leaves no RUNNING record', async () => {
    const { dir, deployFlow } = localProject({}, { python: 'python\u00003' });
    const { run } = await deployFlow('short', 'def main():\n    pass\n');
    const error = (await run().catch((e: unknown) => e)) as Error;
    expect(error.message.startsWith("Failed to run short: cannot start Python 'python\u00003' (")).toBe(true);
    expect(error.message.endsWith('); install Python 3 or set PYTHON to its path')).toBe(true);
    const root = path.join(dir, '.lolpop-deploy/runs');
    const [id] = readdirSync(root);
    expect(JSON.parse(readFileSync(path.join(root, id!, 'run.json'), 'utf8'))).toMatchObject({ state: 'FAILED' });
  });

  it('a failing run names its exit code', async () => {
    const { deployFlow } = localProject();
    const { run } = await deployFlow('fails', 'import sys\ndef main():\n    sys.exit(3)\n');
    const result = await run();
    expect(readRecord(result.url)).toMatchObject({ state: 'FAILED', exitCode: 3 });
  });
});

describe('LocalOrchestrator: stale RUNNING records', () => {
  /** A RUNNING record as a lolpop-deploy killed with SIGKILL leaves it: its Python and its owner gone. */
  async function staleRun(dir: string, id: string, key: string, owner: Partial<RunRecord['owner']> | null, pid?: number) {
    const run: RunRecord = {
      id,
      deployment: 'sleeper',
      entrypoint: 'sleeper.py:main',
      parameters: {},
      state: 'RUNNING',
      idempotencyKey: key,
      python: 'python3',
      command: ['python3'],
      started: new Date(Date.now() - 60_000).toISOString(),
      ...(pid === undefined ? {} : { pid }),
      ...(owner === null ? {} : { owner: { ...currentOwner(), ...owner } }),
    };
    const runDir = path.join(dir, '.lolpop-deploy/runs', id);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(run));
    writeFileSync(path.join(runDir, 'log.txt'), 'pids 1 2\nstill going\n');
    return run;
  }

  it('the next run with the same key marks it CRASHED instead of waiting on it; wait fails at once', async () => {
    const { dir, deployFlow, wait, logger } = localProject();
    const { run } = await deployFlow('sleeper', SLEEPER);
    const ownerPid = await deadPid();
    const stale = await staleRun(dir, '20200101T000000Z-aaaaaa', 'retry-key', { pid: ownerPid, startTicks: '1' }, await deadPid());
    const again = await run({ idempotency_key: 'retry-key', wait: true, wait_timeout: 30_000 });
    expect(again).toMatchObject({ id: stale.id, state: 'CRASHED', created: false });
    const record = readRecord(again.url);
    expect(record.state).toBe('CRASHED');
    expect(record.error).toMatch(new RegExp(`its processes are gone \\(Python pid \\d+, lolpop-deploy pid ${ownerPid}\\)`));
    expect(logger.lines.some((l) => l.startsWith(`warning: Run ${stale.id} of sleeper was recorded RUNNING, but its processes are gone`))).toBe(true);
    expect(readFileSync(path.join(runDir(again.url), 'report.html'), 'utf8')).toContain('still going');
    const started = Date.now();
    const error = (await wait(again, 30_000).catch((e: unknown) => e)) as Error;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.message).toMatch(/ended CRASHED \(its processes are gone/);
  });

  it('wait on a stale record marks it CRASHED at once; a record whose owner lives stays RUNNING', async () => {
    const { dir, orchestrator } = localProject();
    const stale = await staleRun(dir, '20200101T000000Z-bbbbbb', 'k1', { pid: await deadPid() });
    const url = `file://${dir}/.lolpop-deploy/runs/${stale.id}/report.html`;
    const started = Date.now();
    await expect(orchestrator.wait({ run: { id: stale.id, url, state: 'RUNNING', created: true }, timeoutMs: 20_000, pollMs: 50 })).rejects.toThrow(/ended CRASHED/);
    expect(Date.now() - started).toBeLessThan(1000);
    // Its owner (here a stand-in, `sleep`) still runs: it will record the end, so wait waits (here to its timeout).
    const owner = spawn('sleep', ['30']);
    onTestFinished(() => void owner.kill());
    const live = await staleRun(dir, '20200101T000000Z-cccccc', 'k2', { pid: owner.pid!, startTicks: startTicks(owner.pid!) });
    const liveUrl = `file://${dir}/.lolpop-deploy/runs/${live.id}/report.html`;
    await expect(orchestrator.wait({ run: { id: live.id, url: liveUrl, state: 'RUNNING', created: true }, timeoutMs: 300, pollMs: 50 })).rejects.toThrow(/still RUNNING/);
  });

  it('a record naming this pid but not running here (a reused pid) is stale; so is one without any process (an older version)', async () => {
    const { dir, orchestrator } = localProject();
    const reused = await staleRun(dir, '20200101T000000Z-dddddd', 'k3', {});
    const legacy = await staleRun(dir, '20200101T000000Z-eeeeee', 'k4', null);
    for (const run of [reused, legacy]) {
      const url = `file://${dir}/.lolpop-deploy/runs/${run.id}/report.html`;
      await expect(orchestrator.wait({ run: { id: run.id, url, state: 'RUNNING', created: true }, timeoutMs: 5000, pollMs: 50 })).rejects.toThrow(/ended CRASHED/);
    }
  });
});
