import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, localProject, until } from '../local/project.js';

/** The pids a flow printed as `pids 1 2 …`. */
function printedPids(url: string): number[] {
  const log = readFileSync(path.join(path.dirname(fileURLToPath(url)), 'log.txt'), 'utf8');
  return (/pids ([\d ]+)/.exec(log)?.[1] ?? '').trim().split(' ').filter(Boolean).map(Number);
}

/** A flow that starts `CHILD` (Python source) with `how`, prints both pids, then waits. */
function flow(child: string, how: string): string {
  return `import os, subprocess, sys, time
def main():
    child = subprocess.Popen([sys.executable, "-c", ${JSON.stringify(child)}]${how})
    time.sleep(0.5)
    extra = open("daemon.pid").read().strip() if os.path.exists("daemon.pid") else ""
    print("pids %d %d %s" % (os.getpid(), child.pid, extra), flush=True)
    time.sleep(60)
`;
}

// Ignores SIGTERM, closes its stdout and stderr (so the run's pipes close), then sleeps.
const DEAF = `import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
os.close(1)
os.close(2)
time.sleep(60)`;

// Leaves the run's process group and session, then forks a daemon and exits: the daemon's
// parent is gone, its group and session are not the run's.
const DAEMON = `import os, signal, sys, time
os.setsid()
pid = os.fork()
if pid:
    open("daemon.pid", "w").write(str(pid))
    sys.exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
devnull = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(devnull, fd)
time.sleep(60)`;

describe('proc: nothing a local run started outlives its wait-timeout', () => {
  it('a child that ignores SIGTERM and closes its pipes is killed (SIGKILL after the grace period)', async () => {
    const { deployFlow } = localProject({ killGraceMs: 500 });
    const { run } = await deployFlow('deaf', flow(DEAF, ''));
    const result = await run({ wait: true, wait_timeout: 1500 });
    expect(result.state).toBe('CANCELLED');
    const pids = printedPids(result.url);
    expect(pids).toHaveLength(2);
    expect(await until(() => !pids.some(alive), 1000)).toBe(true);
  });

  it('a child in a session of its own (setsid) is killed', async () => {
    const { deployFlow } = localProject({ killGraceMs: 500 });
    const { run } = await deployFlow('session', flow('import time\ntime.sleep(60)', ', start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL'));
    const result = await run({ wait: true, wait_timeout: 1500 });
    expect(result.state).toBe('CANCELLED');
    const pids = printedPids(result.url);
    expect(pids).toHaveLength(2);
    expect(await until(() => !pids.some(alive), 1000)).toBe(true);
  });

  it('a daemon (setsid, then fork, its parent gone) that ignores SIGTERM is killed', async () => {
    const { deployFlow } = localProject({ killGraceMs: 500 });
    const { run } = await deployFlow('daemon', flow(DAEMON, ''));
    const result = await run({ wait: true, wait_timeout: 1500 });
    expect(result.state).toBe('CANCELLED');
    const pids = printedPids(result.url);
    expect(pids).toHaveLength(3);
    expect(await until(() => !pids.some(alive), 1000)).toBe(true);
  });
});
