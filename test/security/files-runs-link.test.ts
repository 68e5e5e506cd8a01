import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, filesUnder, hostileProject } from './files-project.js';

describe('a symlinked .lolpop-deploy/runs in the repository', () => {
  it('the local run writes (and executes) no launcher.py outside the state folder', async () => {
    const { dir, outside } = hostileProject();
    mkdirSync(path.join(dir, '.lolpop-deploy'));
    symlinkSync(outside, path.join(dir, '.lolpop-deploy/runs'));
    const { code, stderr } = await cli(['up', '-c', 'lolpop.yaml'], dir);
    expect(filesUnder(outside)).toEqual([]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `Refusing local state 'runs': it leads to ${outside} through a symbolic link, outside the state folder ${path.join(dir, '.lolpop-deploy')}`,
    );
  });
});
