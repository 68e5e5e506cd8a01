import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, hostileProject } from './files-project.js';

describe('a dangling Dockerfile link in the repository', () => {
  it('package refuses to write the Dockerfile through it, and creates nothing where it points', async () => {
    const { dir, outside } = hostileProject();
    const target = path.join(outside, 'planted');
    symlinkSync(target, path.join(dir, 'Dockerfile'));
    const { code, stderr } = await cli(['package', 'QuickstartRunner', '-c', 'lolpop.yaml'], dir);
    expect(existsSync(target)).toBe(false);
    expect(code).toBe(1);
    expect(stderr).toBe(`error: Refusing 'Dockerfile': it is a symbolic link to ${target}, which leads nowhere\n`);
  });
});
