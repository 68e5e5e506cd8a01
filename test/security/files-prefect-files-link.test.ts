import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, filesUnder, hostileProject } from './files-project.js';

describe('a symlinked prefect_files/ in the repository', () => {
  it('package refuses to write run.py through it, naming the link and where it leads', async () => {
    const { dir, outside } = hostileProject();
    symlinkSync(outside, path.join(dir, 'prefect_files'));
    const { code, stderr } = await cli(['package', 'QuickstartRunner', '-c', 'lolpop.yaml'], dir);
    expect(filesUnder(outside)).toEqual([]);
    expect(code).toBe(1);
    expect(stderr).toBe(`error: Refusing 'prefect_files/run.py': it leads to ${path.join(outside, 'run.py')} through a symbolic link, outside the working directory ${dir}\n`);
  });
});
