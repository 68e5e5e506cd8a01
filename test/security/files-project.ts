import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { MemoryLogger } from '../../src/logger.js';
import { copyExample } from '../local/example.js';

/** A fresh examples/quickstart (the repository a pull request brings) and an empty folder outside it. */
export function hostileProject(): { dir: string; outside: string } {
  return { dir: copyExample('quickstart'), outside: mkdtempSync(path.join(tmpdir(), 'lolpop-outside-')) };
}

/** The CLI, in-process, as `lolpop-deploy <argv>` in `cwd`. */
export async function cli(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const logger = new MemoryLogger();
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { PATH: process.env.PATH, ...env }, cwd, logger });
  return { code, stdout, stderr, log: logger.lines };
}

/** Every file under `dir`, relative to it. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
