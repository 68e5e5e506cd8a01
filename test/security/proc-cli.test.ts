import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { alive, until } from '../local/project.js';
import { bundleCli, dockerProject, fakeDocker, startNode } from './proc-helpers.js';

let cli = '';
beforeAll(() => {
  cli = bundleCli();
}, 120_000);

// A hostile `docker build`: ignores SIGTERM (and so does the `sleep` it starts), writes both pids.
const STUBBORN_BUILD = `trap '' TERM; sleep 600 & echo "$$ $!" > "$PWD/out/build.pids"; wait`;

function buildPids(dir: string): number[] {
  const file = path.join(dir, 'out/build.pids');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split(' ').map(Number) : [];
}

describe('proc: the CLI stops the docker build it started', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s to the CLI during `docker build`: the build and its child are gone (SIGKILL after the grace), one line says so, the CLI ends by the signal', async (signal) => {
    const dir = dockerProject();
    const up = startNode(process.execPath, cli, ['package', 'QuickstartRunner', '-c', 'lolpop.yaml'], dir, fakeDocker(STUBBORN_BUILD));
    expect(await until(() => buildPids(dir).length === 2, 20_000)).toBe(true);
    const pids = buildPids(dir);
    process.kill(up.pid, signal);
    // Ended by the signal itself: a shell reports 128 + its number (143, 130).
    expect(await up.exited).toEqual({ code: null, signal });
    expect(pids.filter(alive)).toEqual([]);
    expect(up.output()).toMatch(new RegExp(`lolpop-deploy: received ${signal}: stopped docker build \\(pid ${pids[0]}\\); exiting\\n`));
  }, 60_000);
});

describe('proc: build output is streamed, not held', () => {
  it('200 MB of `docker build` output: the CLI logs it all and stays within 250 MB of memory; the error quotes the tail', async () => {
    const dir = dockerProject();
    // 2,000,000 lines of 100 bytes, then the classic builder's failure.
    const flood = `python3 -c 'import sys; line = "x" * 99 + "\\n"; block = line * 1000; [sys.stdout.write(block) for _ in range(2000)]'; echo "The command '/bin/sh -c make' returned a non-zero code: 2"; exit 1`;
    const up = startNode(process.execPath, cli, ['package', 'QuickstartRunner', '-c', 'lolpop.yaml'], dir, fakeDocker(flood));
    expect((await up.exited).code).toBe(1);
    console.log(`200 MB of docker build output: peak RSS of the CLI ${Math.round(up.peakRss() / 2 ** 20)} MB (${up.bytes()} bytes of output)`);
    expect(up.bytes()).toBeGreaterThan(200_000_000);
    expect(up.output()).toMatch(/error: Failed to build the image quickstart:test: .*returned a non-zero code: 2/);
    expect(up.peakRss()).toBeGreaterThan(0);
    expect(up.peakRss()).toBeLessThan(250 * 2 ** 20);
  }, 180_000);
});
