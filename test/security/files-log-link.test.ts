import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentOwner, type RunRecord } from '../../src/orchestrators/local/state.js';
import { localProject } from '../local/project.js';
import { hostileProject } from './files-project.js';

describe('a committed local run whose log.txt links to a file outside the repository', () => {
  it("wait never quotes that file's tail in its error", async () => {
    const { dir, outside } = hostileProject();
    const credentials = path.join(outside, '.git-credentials');
    writeFileSync(credentials, 'https://x-access-token:ghs_SECRET@github.com\n');
    const { deployFlow, wait } = localProject({}, {}, dir);
    const { run } = await deployFlow('short', 'def main():\n    pass\n');
    // A FAILED run recorded with the key the step will use: the step takes it as its own run.
    const id = '20200101T000000Z-bbbbbb';
    const planted: RunRecord = {
      id,
      deployment: 'short',
      entrypoint: 'short.py:main',
      parameters: {},
      state: 'FAILED',
      exitCode: 1,
      idempotencyKey: 'key-1',
      python: 'python3',
      command: ['python3'],
      started: new Date().toISOString(),
      ended: new Date().toISOString(),
      owner: currentOwner(),
    };
    const runDir = path.join(dir, '.lolpop-deploy/runs', id);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(path.join(runDir, 'run.json'), JSON.stringify(planted));
    symlinkSync(credentials, path.join(runDir, 'log.txt'));
    const earlier = await run({ idempotency_key: 'key-1' });
    expect(earlier).toMatchObject({ id, created: false, state: 'FAILED' });
    const error = (await wait(earlier).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('ghs_SECRET');
    expect(error.message).toBe(`Refusing run log '${id}/log.txt': ${path.join(runDir, 'log.txt')} is a symbolic link to ${credentials}; not following it`);
  });
});
