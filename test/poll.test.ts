import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { poll } from '../src/poll.js';

describe('poll', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A read that returns 1, 2, 3, … */
  function counter(): () => Promise<number> {
    let n = 0;
    return async () => ++n;
  }

  it('returns the first value that satisfies the predicate, without waiting after it', async () => {
    const read = vi.fn(counter());
    const outcome = poll(read, (n) => n === 3, { timeoutMs: 10_000, intervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(2000);
    await expect(outcome).resolves.toEqual({ done: true, value: 3, attempts: 3 });
    expect(read).toHaveBeenCalledTimes(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads once and does not wait when the first value is done', async () => {
    const read = vi.fn(counter());
    await expect(poll(read, () => true, { timeoutMs: 0, intervalMs: 1000 })).resolves.toMatchObject({ done: true, value: 1 });
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('times out with the last value read, the last wait cut at the deadline', async () => {
    const read = vi.fn(counter());
    const pending: Array<[number, boolean]> = [];
    const outcome = poll(read, () => false, {
      timeoutMs: 2500,
      intervalMs: 1000,
      onPending: (n, { last }) => void pending.push([n, last]),
    });
    // reads at 0, 1000, 2000 and 2500 (the wait after 2000 is cut to 500)
    await vi.advanceTimersByTimeAsync(2500);
    await expect(outcome).resolves.toEqual({ done: false, timedOut: true, value: 4, attempts: 4 });
    expect(pending).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
  });

  it('a zero timeout reads once and times out', async () => {
    const read = vi.fn(counter());
    await expect(poll(read, () => false, { timeoutMs: 0, intervalMs: 1000 })).resolves.toMatchObject({ done: false, timedOut: true, value: 1 });
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('takes a shared deadline instead of a timeout', async () => {
    const read = vi.fn(counter());
    const outcome = poll(read, () => false, { deadline: Date.now() + 1000, intervalMs: 400 });
    await vi.advanceTimersByTimeAsync(1000);
    await expect(outcome).resolves.toMatchObject({ done: false, value: 4 });
  });

  it('stops at once with what onPending or read throws', async () => {
    const stop = poll(counter(), () => false, {
      timeoutMs: 10_000,
      intervalMs: 1000,
      onPending: (n) => {
        if (n === 2) throw new Error('gave up at 2');
      },
    });
    const caught = stop.catch((e: Error) => e);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await caught).toEqual(new Error('gave up at 2'));

    const failing = poll(() => Promise.reject(new Error('read failed')), () => true, { timeoutMs: 1000, intervalMs: 10 });
    await expect(failing).rejects.toThrow('read failed');
  });
});
