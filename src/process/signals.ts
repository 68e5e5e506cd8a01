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
  /** The first signal: stop gracefully. */
  stop(signal: NodeJS.Signals): void;
  /** Another signal while stopping: kill now. */
  kill(signal: NodeJS.Signals): void;
}

/**
 * One listener per signal source for all the runs in flight in this process (several
 * workflows may run at once): listening only while a run is in flight, it stops them all
 * on the first SIGTERM/SIGINT and kills them on the next. When the last of them has left
 * (its end recorded), the signal is raised again, so the process ends as it was asked to;
 * meanwhile no new run starts.
 */
export class SignalGuard {
  private readonly runs = new Map<string, GuardedRun>();
  private received: NodeJS.Signals | undefined;
  private readonly listener = (signal: NodeJS.Signals) => this.onSignal(signal);

  constructor(private readonly source: SignalSource) {}

  /** The signal that is ending this process, if one is. */
  get signal(): NodeJS.Signals | undefined {
    return this.received;
  }

  enter(id: string, run: GuardedRun): void {
    if (this.runs.size === 0) for (const signal of HANDLED_SIGNALS) this.source.on(signal, this.listener);
    this.runs.set(id, run);
    if (this.received) run.stop(this.received);
  }

  /** After the run's end is recorded; the last run out raises the signal again. */
  leave(id: string, raise: (signal: NodeJS.Signals) => void): void {
    if (!this.runs.delete(id) || this.runs.size > 0) return;
    for (const signal of HANDLED_SIGNALS) this.source.off(signal, this.listener);
    const received = this.received;
    this.received = undefined;
    if (received) raise(received);
  }

  private onSignal(signal: NodeJS.Signals): void {
    const again = this.received !== undefined;
    this.received ??= signal;
    for (const run of this.runs.values()) {
      if (again) run.kill(signal);
      else run.stop(signal);
    }
  }
}

const guards = new WeakMap<SignalSource, SignalGuard>();

export function signalGuard(source: SignalSource): SignalGuard {
  let guard = guards.get(source);
  if (!guard) guards.set(source, (guard = new SignalGuard(source)));
  return guard;
}
