import { spawnSync } from 'node:child_process';
import { rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../local/example.js';
import { hostileProject } from './files-project.js';

const CLI = path.join(REPO, 'dist/cli/index.js');

describe('a lolpop.yaml -> /dev/zero in the repository', () => {
  it('the bundled CLI refuses it at once instead of reading without bound', () => {
    const { dir } = hostileProject();
    rmSync(path.join(dir, 'lolpop.yaml'));
    symlinkSync('/dev/zero', path.join(dir, 'lolpop.yaml'));
    // Unbounded, the read took 30 s and 2.1 GB before this bound on it: 10 s is ample for a refusal.
    const started = Date.now();
    const cli = spawnSync(process.execPath, [CLI, 'plan', '-c', 'lolpop.yaml'], { cwd: dir, encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toBe(`error: Refusing config file lolpop.yaml: it leads to /dev/zero through a symbolic link, outside the working directory ${dir}\n`);
  });
});
