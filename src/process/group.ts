import { randomBytes } from 'node:crypto';
import { sleep } from '../duration.js';
import { markedProcesses, processesOf } from './tree.js';

/**
 * Between SIGTERM and SIGKILL to what a child started: time for `docker build` to cancel
 * its build and a Python run to clean up, and short enough to end inside GitHub's
 * cancellation (SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that).
 */
export const KILL_GRACE_MS = 5000;

/** How often a stopping group is looked at again. */
const CHECK_MS = 100;

const POSIX = process.platform !== 'win32';

/**
 * The one lifecycle of a child process and everything it starts. The child is spawned
 * as the leader of a new process group (`detached`) with a marker of its own in its
 * environment; `terminate` sends SIGTERM to the group and to every process found
 * carrying the marker or descending from the leader (see processesOf: that reaches
 * those that left the group with setsid), then SIGKILL to whatever is left after the
 * grace period, and settles when nothing is left. A child that ignores SIGTERM and
 * closes its pipes is killed all the same.
 */
export class ProcessGroup {
  /** The variable every process of the group carries: recorded, it lets another process find them (adopt). */
  readonly marker = `LOLPOP_DEPLOY_PROCESS_${randomBytes(8).toString('hex')}`;
  private leader: number | undefined;
  /** A group another process started (adopt): reached by its marker alone. */
  private adopted: string | undefined;
  private ending: Promise<void> | undefined;

  constructor(private readonly graceMs = KILL_GRACE_MS) {}

  /**
   * The processes of a group a process that is gone started (an action step killed while a
   * local run ran), found by the marker they carry: not by the leader's pid, which may have
   * been reused by now. Linux only (elsewhere nothing is found).
   */
  static adopt(marker: string, graceMs = KILL_GRACE_MS): ProcessGroup {
    const group = new ProcessGroup(graceMs);
    group.adopted = marker;
    return group;
  }

  /** How many processes are left of it (an adopted group's count, for the report). */
  count(): number {
    return this.members().length;
  }

  /** What to give spawn: its own group, and the marker added to `env`. */
  spawnOptions(env: NodeJS.ProcessEnv): { env: Record<string, string>; detached: boolean } {
    const defined = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined);
    return { env: { ...Object.fromEntries(defined), [this.marker]: '1' }, detached: POSIX };
  }

  /** The spawned leader's pid. */
  started(pid: number | undefined): void {
    this.leader = pid;
  }

  /** SIGTERM now, SIGKILL after the grace period to what remains; settles when nothing remains. Idempotent. */
  terminate(): Promise<void> {
    this.ending ??= this.end();
    return this.ending;
  }

  /** SIGKILL to all of it now (a second Ctrl-C); a terminate in progress still settles. */
  kill(): void {
    this.signal('SIGKILL');
  }

  private async end(): Promise<void> {
    this.signal('SIGTERM');
    const deadline = Date.now() + this.graceMs;
    while (this.remains() && Date.now() < deadline) await sleep(CHECK_MS);
    // A process that forks as fast as it is killed is bounded too: a few rounds, then it is left.
    for (let round = 0; round < 10 && this.remains(); round++) {
      this.signal('SIGKILL');
      await sleep(CHECK_MS / 2);
    }
  }

  private members(): number[] {
    if (this.adopted !== undefined) return markedProcesses(this.adopted);
    return this.leader !== undefined && process.platform === 'linux' ? processesOf(this.leader, this.marker) : [];
  }

  private remains(): boolean {
    if (this.adopted !== undefined) return this.members().length > 0;
    if (this.leader === undefined) return false;
    if (process.platform === 'linux') return processesOf(this.leader, this.marker).length > 0;
    try {
      process.kill(POSIX ? -this.leader : this.leader, 0);
      return true;
    } catch {
      return false;
    }
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.adopted !== undefined) {
      for (const pid of this.members()) kill(pid, signal);
      return;
    }
    if (this.leader === undefined) return;
    // Those outside the group first: a leader that dies first must not let a daemon slip away.
    const targets = process.platform === 'linux' ? processesOf(this.leader, this.marker) : [];
    for (const pid of [...targets.filter((p) => p !== this.leader), POSIX ? -this.leader : this.leader]) kill(pid, signal);
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: gone already.
  }
}

