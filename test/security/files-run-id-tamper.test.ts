import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentOwner, type RunRecord } from '../../src/orchestrators/local/state.js';
import { deadPid, localProject } from '../local/project.js';
import { filesUnder, hostileProject } from './files-project.js';

describe("a tampered local run.json whose id climbs out with '../'", () => {
  it('the next run with its idempotency key writes nothing outside the state folder', async () => {
    const { dir, outside } = hostileProject();
    const { deployFlow, logger } = localProject({}, {}, dir);
    const { run } = await deployFlow('short', 'def main():\n    print("ran")\n');
    // A RUNNING record whose processes are gone: the next run with its key settles it CRASHED, writing run.json and report.html.
    const id = '20200101T000000Z-aaaaaa';
    const tampered: RunRecord = {
      id: path.relative(path.join(dir, '.lolpop-deploy/runs'), outside),
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
    mkdirSync(path.join(dir, '.lolpop-deploy/runs', id), { recursive: true });
    writeFileSync(path.join(dir, '.lolpop-deploy/runs', id, 'run.json'), JSON.stringify(tampered));
    const result = await run({ idempotency_key: 'key-1', wait: true, wait_timeout: 30_000 });
    expect(filesUnder(outside)).toEqual([]);
    // The tampered record is no run of this key: a new run ran.
    expect(result).toMatchObject({ state: 'COMPLETED', created: true });
    expect(result.id).not.toBe(id);
    expect(logger.lines).toContain('info: ran');
  });
});
