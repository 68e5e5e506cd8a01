import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigSync } from '../../src/config/load.js';
import { ProcessExec } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';
import { LocalConfig } from '../../src/orchestrators/local/config.js';
import { LocalOrchestrator, type LocalRunOptions } from '../../src/orchestrators/local/orchestrator.js';
import type { OrchestratorContext, RunResult } from '../../src/orchestrators/orchestrator.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { ciContext } from '../helpers/services.js';
import { requestsOf } from '../helpers/requests.js';
import { copyExample } from './example.js';

/** A copy of examples/quickstart with a LocalOrchestrator on it, and a way to deploy a flow of one's own. */
export function localProject(options: LocalRunOptions = {}, config: Record<string, unknown> = {}, dir = copyExample('quickstart')) {
  const configFile = path.join(dir, 'lolpop.yaml');
  const loaded = loadConfigSync(configFile, {}, orchestratorLookup, process.env);
  const logger = new MemoryLogger();
  const ctx: OrchestratorContext = { logger, exec: new ProcessExec(), fetch: globalThis.fetch, env: process.env, ci: ciContext(), workdir: dir, configFile };
  const orchestrator = new LocalOrchestrator(LocalConfig.parse({ ...(loaded.orchestratorConfig as object), ...config }), ctx, options);
  const d = loaded.deployment;

  /** Writes `<name>.py` with `source` (a `main` function) and deploys it as deployment `name`. */
  async function deployFlow(name: string, source: string) {
    writeFileSync(path.join(dir, `${name}.py`), source);
    const pkg = { ...d.package, flow_entrypoint: `${name}.py:main` };
    await orchestrator.deploy(requestsOf(loaded, { name, package: pkg }).deploy());
    const run = (kwargs: Partial<typeof d.run> = {}) => orchestrator.run(requestsOf(loaded, { name, package: pkg, run: { ...d.run, ...kwargs } }).run());
    return { run };
  }
  const wait = (run: RunResult, timeoutMs = 5000) => orchestrator.wait({ run, timeoutMs, pollMs: 50 });
  return { dir, logger, orchestrator, d, deployFlow, wait };
}

/** A flow that starts a grandchild (`sleep`), prints both pids, then sleeps. */
export const SLEEPER = `import os, subprocess, sys, time
def main(seconds=60, ignore_term=False):
    if ignore_term:
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen(["sleep", str(seconds)])
    print("pids %d %d" % (os.getpid(), child.pid), flush=True)
    time.sleep(seconds)
`;

/** The pids a SLEEPER printed. */
export function sleeperPids(text: string): number[] {
  const match = /pids (\d+) (\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : [];
}

/** Whether `pid` runs: `kill(pid, 0)`, and on Linux not a zombie (ended, not yet reaped by init). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The pid of a process that has ended (and been reaped). */
export async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

export async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}
