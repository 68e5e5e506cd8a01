import type { Readable } from 'node:stream';

/** Bytes this process's stdout or stderr may hold unwritten before a child's output waits. */
const BACKLOG_BYTES = 1024 * 1024;

/**
 * Reads a child's output no faster than this process's own stdout and stderr are read.
 * Every line of a build or a run is logged there, and a write to a slow pipe (the runner,
 * `| tail`) is queued in memory: 200 MB of `docker build` output read at full speed left
 * hundreds of MB queued. Called after each chunk: when a backlog is over the cap, the
 * child's pipes pause until it drains (the child then waits on its full pipe).
 */
export function paceToOwnOutput(streams: readonly Readable[]): void {
  const backlogged = [process.stdout, process.stderr].filter((s) => s.writableLength > BACKLOG_BYTES);
  if (backlogged.length === 0) return;
  for (const s of streams) s.pause();
  let waiting = backlogged.length;
  for (const out of backlogged) {
    out.once('drain', () => {
      if (--waiting === 0) for (const s of streams) s.resume();
    });
  }
}
