import { sleep } from './duration.js';

export interface PollOptions<T> {
  /** How long to keep reading, from the call; 0 reads once. Ignored when `deadline` is given. */
  timeoutMs?: number;
  /** The end as an epoch time in ms, when several waits share one deadline. */
  deadline?: number;
  /** Between two reads; the last wait is cut short at the deadline. */
  intervalMs: number;
  /**
   * After each read that is not done, before the deadline is checked: log progress,
   * or throw to stop polling (a problem that waiting will not fix). `last` is true when
   * the deadline has passed and no read follows.
   */
  onPending?(value: T, info: { attempt: number; last: boolean }): void | Promise<void>;
}

/** How a poll ended: `done` with the value that satisfied the predicate, or not by the deadline with the last one read. */
export type PollOutcome<T, D extends T = T> = { done: true; value: D; attempts: number } | { done: false; timedOut: true; value: T; attempts: number };

/**
 * Reads `read()` until `done(value)` holds or the deadline passes, waiting `intervalMs`
 * between reads. Reads at least once; never throws for the timeout (the caller words
 * that), only what `read` or `onPending` throw.
 */
export async function poll<T, D extends T>(read: () => Promise<T>, done: (value: T) => value is D, options: PollOptions<T>): Promise<PollOutcome<T, D>>;
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, options: PollOptions<T>): Promise<PollOutcome<T>>;
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, options: PollOptions<T>): Promise<PollOutcome<T>> {
  const deadline = options.deadline ?? Date.now() + (options.timeoutMs ?? 0);
  for (let attempt = 1; ; attempt++) {
    const value = await read();
    if (done(value)) return { done: true, value, attempts: attempt };
    const last = Date.now() >= deadline;
    await options.onPending?.(value, { attempt, last });
    if (last || Date.now() >= deadline) return { done: false, timedOut: true, value, attempts: attempt };
    await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
  }
}
