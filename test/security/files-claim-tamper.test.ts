import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentOwner, safeFileName, type RunRecord } from '../../src/orchestrators/local/state.js';
import { deadPid, localProject } from '../local/project.js';
import { filesUnder, hostileProject } from './files-project.js';

describe("a tampered local claim file naming run '../…'", () => {
  it('is refused, naming the claim file; nothing is read or written outside the state folder', async () => {
    const { dir, outside } = hostileProject();
    const { deployFlow } = localProject({}, {}, dir);
    const { run } = await deployFlow('short', 'def main():\n    pass\n');
    // What the claim leads to: a RUNNING record outside, whose settling would write report.html there.
    const runs = path.join(dir, '.lolpop-deploy/runs');
    const climb = path.relative(runs, outside);
    const planted: RunRecord = {
      id: climb,
      deployment: 'short',
      entrypoint: 'short.py:main',
      parameters: {},
      state: 'RUNNING',
      idempotencyKey: 'key-1',
      python: 'python3',
      command: ['python3'],
      started: new Date().toISOString(),
      owner: { ...currentOwner(), pid: await deadPid(), startTicks: '1' },
    };
    writeFileSync(path.join(outside, 'run.json'), JSON.stringify(planted));
    const hash = createHash('sha256').update('short\nkey-1').digest('hex').slice(0, 32);
    const claim = path.join(dir, '.lolpop-deploy/keys', `${safeFileName('short')}-${hash}.json`);
    mkdirSync(path.dirname(claim), { recursive: true });
    writeFileSync(claim, JSON.stringify({ deployment: 'short', key: 'key-1', run: climb }));
    const error = (await run({ idempotency_key: 'key-1', wait: true, wait_timeout: 30_000 }).catch((e: unknown) => e)) as Error;
    expect(filesUnder(outside)).toEqual(['run.json']);
    expect(error.message).toBe(`Refusing ${claim}: it names run '${climb}', not a run id (such as 20250131T120501Z-3fa9c2); delete it`);
  });
});
