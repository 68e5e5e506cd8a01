/** Methods that change something on the server. */
export function isWrite(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

/**
 * The writes to one server, one at a time once it has answered a write `503 Service
 * Unavailable`: Prefect on SQLite answers 503 to a write that meets another one, so
 * retrying writes side by side only makes them meet again (50 workflows at
 * max-parallel 4 drew about 100 refusals, each retried after a backoff). Until then,
 * and for reads always, nothing is held. One gate per server, shared by every
 * workflow of a step that writes to it (Prefect: `server-facts.ts`).
 *
 * A try holds the gate while it is on the wire, not while it waits to be retried.
 */
export class WriteGate {
  private limit = Number.POSITIVE_INFINITY;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  /** Whether writes now go one at a time. */
  get serial(): boolean {
    return this.limit === 1;
  }

  /** Waits for a turn (writes only, once serial) and returns its release; calling it twice is harmless. */
  async acquire(method: string): Promise<() => void> {
    if (!isWrite(method)) return () => undefined;
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      // The one woken checks again: it may find another took the turn first.
      this.waiting.shift()?.();
    };
  }

  /** The status a try answered: a write answered 503 makes every later write wait for its turn. */
  observe(method: string, status: number): void {
    if (isWrite(method) && status === 503) this.limit = 1;
  }
}
