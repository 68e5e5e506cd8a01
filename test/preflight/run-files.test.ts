import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MemoryLogger } from '../../src/logger.js';
import { REPO } from '../local/example.js';

/** A repository with examples/quickstart in it, as a user's checkout is. */
function checkout(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'lolpop-preflight-'));
  cpSync(path.join(REPO, 'examples/quickstart'), path.join(root, 'examples/quickstart'), {
    recursive: true,
    filter: (src) => !/(\.lolpop-deploy|prefect_files|__pycache__)$/.test(src) && !src.endsWith('/Dockerfile'),
  });
  return root;
}

async function cli(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const logger = new MemoryLogger();
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { PATH: process.env.PATH }, cwd, logger });
  return { code, stdout, stderr, log: logger.lines };
}

describe('the files the run needs are checked before anything is packaged or deployed', () => {
  it('up from the repository root fails in one line that says to run from the config folder, and writes nothing', async () => {
    const root = checkout();
    const { code, stderr } = await cli(['up', '-c', 'examples/quickstart/lolpop.yaml'], root);
    expect(code).toBe(1);
    expect(stderr).toContain(
      'lolpop_module quickstart_runner (quickstart_runner.py), config_file dev.yaml, copy_files quickstart_runner.py, copy_files train.csv, copy_files test.csv, copy_files dev.yaml ' +
        `are not in the working directory ${path.relative(process.cwd(), root)} but next to the config, in examples/quickstart: ` +
        'paths in the config resolve against the working directory, as lolpop resolves them; ' +
        "run from examples/quickstart (the action's working-directory: examples/quickstart, config: lolpop.yaml; the CLI: cd examples/quickstart && lolpop-deploy … -c lolpop.yaml)",
    );
    expect(stderr.trim().split('\n').filter((l) => l.includes('not in the working directory'))).toHaveLength(1);
    // Neither package (Dockerfile, prefect_files/) nor deploy (.lolpop-deploy/) ran.
    expect(readdirSync(root)).toEqual(['examples']);
  });

  it('a copy_files entry that is nowhere is named, with the fix', async () => {
    const root = checkout();
    const dir = path.join(root, 'examples/quickstart');
    rmSync(path.join(dir, 'test.csv'));
    const { code, stderr } = await cli(['build', '-c', 'lolpop.yaml'], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/copy_files test\.csv is not in the working directory \S+, where the run will look for them .*; add them there, or fix the paths in orchestrator\.deployment\.package of \S*lolpop\.yaml/);
    expect(existsSync(path.join(dir, '.lolpop-deploy'))).toBe(false);
  });

  it('plan shows the same line as a warning and goes on (it changes nothing)', async () => {
    const root = checkout();
    const { code, log } = await cli(['plan', '-c', 'examples/quickstart/lolpop.yaml'], root);
    expect(log.filter((l) => l.startsWith('warning: plan: ') && l.includes('run from examples/quickstart'))).toHaveLength(1);
    expect(code).toBe(0);
  });

  it('stop needs none of them', async () => {
    const root = checkout();
    const { stderr } = await cli(['stop', 'quickstart', '-c', 'examples/quickstart/lolpop.yaml'], root);
    expect(stderr).not.toContain('not in the working directory');
  });
});
