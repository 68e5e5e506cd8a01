import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, hostileProject } from './files-project.js';

describe('a copy_files entry linked to a file outside the repository', () => {
  it('the Airflow package step refuses to take it into the release', async () => {
    const { dir, outside } = hostileProject();
    const secret = path.join(outside, 'id_rsa');
    writeFileSync(secret, 'PRIVATE KEY\n');
    rmSync(path.join(dir, 'train.csv'));
    symlinkSync(secret, path.join(dir, 'train.csv'));
    const { code, stdout, stderr } = await cli(['package', 'QuickstartRunner', '-c', 'lolpop.yaml', '--packager', 'AirflowOrchestrator'], dir);
    expect(stdout).not.toContain('PRIVATE KEY');
    expect(code).toBe(1);
    expect(stderr).toBe(`error: Refusing to deliver 'train.csv' to Airflow: it leads to ${secret} through a symbolic link, outside the working directory ${dir}\n`);
  });
});
