import type { ChildProcess } from 'node:child_process';

/**
 * What GitHub's runner does to a step when the job is cancelled (or times out): SIGINT,
 * SIGTERM 7.5 s later, SIGKILL 2.5 s after that, each only if the process is still there.
 */
export function cancelLikeTheRunner(child: ChildProcess): void {
  child.kill('SIGINT');
  const term = setTimeout(() => child.kill('SIGTERM'), 7500);
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  child.on('close', () => {
    clearTimeout(term);
    clearTimeout(kill);
  });
}
