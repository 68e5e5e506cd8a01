import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { copyExample, REPO } from '../local/example.js';

/** The CLI bundled from src into a temp dir (rolldown, as test/local/cli-process.test.ts does): dist/ is not touched. */
export function bundleCli(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'lolpop-cli-')), 'cli.js');
  execFileSync(path.join(REPO, 'node_modules/.bin/rolldown'), ['src/cli.ts', '--platform', 'node', '--format', 'esm', '--no-codeSplitting', '--file', file], { cwd: REPO, stdio: 'pipe' });
  return file;
}

/**
 * A directory with a stand-in `docker` first on PATH: `version` answers (a daemon is up),
 * `buildx inspect` fails (the classic builder), `build` runs `build` (sh). What is tested
 * is lolpop-deploy's handling of the process, not Docker.
 */
export function fakeDocker(build: string): string {
  const bin = mkdtempSync(path.join(tmpdir(), 'fake-docker-'));
  writeFileSync(
    path.join(bin, 'docker'),
    `#!/bin/sh
case "$1" in
  version) echo 28.0.0 ;;
  buildx) echo "no buildx" >&2; exit 1 ;;
  build) ${build} ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
`,
  );
  chmodSync(path.join(bin, 'docker'), 0o755);
  return bin;
}

/** The quickstart, packaged as an image (docker_image_tag): `package` runs `docker build`. */
export function dockerProject(): string {
  const dir = copyExample('quickstart');
  const file = path.join(dir, 'lolpop.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('lolpop_install_location: ""', 'lolpop_install_location: ""\n      docker_image_tag: quickstart:test'));
  mkdirSync(path.join(dir, 'out'), { recursive: true });
  return dir;
}

export interface Started {
  pid: number;
  /** The last 64 KiB of stdout and stderr together, and how many bytes there were. */
  output: () => string;
  bytes: () => number;
  /** The highest resident set (VmHWM, in bytes) read while it ran. */
  peakRss: () => number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node <script> args` with `bin` first on PATH; keeps only the tail of its output. */
export function startNode(node: string, script: string, args: string[], cwd: string, bin: string, env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(node, [script, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GITHUB_ACTIONS: '', PATH: `${bin}${path.delimiter}${process.env.PATH}`, ...env },
  });
  let tail = '';
  let bytes = 0;
  const keep = (d: Buffer) => {
    bytes += d.length;
    tail = (tail + d.toString()).slice(-64 * 1024);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (kb) peak = Math.max(peak, Number(kb) * 1024);
    } catch {
      // ended
    }
  }, 50);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      resolve({ code, signal });
    }),
  );
  return { pid: child.pid!, output: () => tail, bytes: () => bytes, peakRss: () => peak, exited };
}
