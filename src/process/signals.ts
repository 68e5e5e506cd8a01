/** Where signals come from: `process`, or a stand-in in tests. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Not SIGHUP: under nohup it is ignored, and a listener would undo that. Without one a
 * hangup ends lolpop-deploy, and the launcher, seeing its parent gone, ends the run.
 */
export const HANDLED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export interface GuardedRun {
  /** What it is, for the line that ends this process: `docker build (pid 42)`, `run 2025… of train`. */
  name: string;
  /** The first signal: stop gracefully. */
  stop(signal: NodeJS.Signals): void;
  /** Another signal while stopping: kill now. */
  kill(signal: NodeJS.Signals): void;
}

/** After a signal: what it stopped, or an empty list. */
export type Raise = (signal: NodeJS.Signals, stopped: string[]) => void;

/**
 * The registry of what this process started and must not leave behind (local runs,
 * `docker build`/`push`, every child of ProcessExec): one listener per signal source for
 * all of them, listening only while one is in flight. It stops them all on the first
 * SIGTERM/SIGINT and kills them on the next. When the last of them has left (its end
 * recorded), the signal is raised again, so the process ends as it was asked to;
 * meanwhile no new run starts.
 */
export class SignalGuard {
  private readonly runs = new Map<string, GuardedRun>();
  private received: NodeJS.Signals | undefined;
  private stopped: string[] = [];
  private readonly listener = (signal: NodeJS.Signals) => this.onSignal(signal);

  constructor(private readonly source: SignalSource) {}

  /** The signal that is ending this process, if one is. */
  get signal(): NodeJS.Signals | undefined {
    return this.received;
  }

  enter(id: string, run: GuardedRun): void {
    if (this.runs.size === 0) for (const signal of HANDLED_SIGNALS) this.source.on(signal, this.listener);
    this.runs.set(id, run);
    if (this.received) this.stop(run, this.received);
  }

  /** After the run's end is recorded; the last run out raises the signal again. */
  leave(id: string, raise: Raise): void {
    if (!this.runs.delete(id) || this.runs.size > 0) return;
    for (const signal of HANDLED_SIGNALS) this.source.off(signal, this.listener);
    const received = this.received;
    const stopped = this.stopped;
    this.received = undefined;
    this.stopped = [];
    if (received) raise(received, stopped);
  }

  private onSignal(signal: NodeJS.Signals): void {
    const again = this.received !== undefined;
    this.received ??= signal;
    for (const run of this.runs.values()) {
      if (again) run.kill(signal);
      else this.stop(run, signal);
    }
  }

  private stop(run: GuardedRun, signal: NodeJS.Signals): void {
    this.stopped.push(run.name);
    run.stop(signal);
  }
}

/**
 * How this process ends after a signal: one line naming what it stopped, then the signal
 * again with no listener left, so the exit status says it (143 for SIGTERM, 130 for SIGINT).
 */
export const raiseAgain: Raise = (signal, stopped) => {
  process.stderr.write(`lolpop-deploy: received ${signal}: stopped ${stopped.length > 0 ? stopped.join(', ') : 'nothing'}; exiting\n`);
  process.kill(process.pid, signal);
};

const guards = new WeakMap<SignalSource, SignalGuard>();

export function signalGuard(source: SignalSource): SignalGuard {
  let guard = guards.get(source);
  if (!guard) guards.set(source, (guard = new SignalGuard(source)));
  return guard;
}
