import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobCancellation } from '../../../src/action/job-cancel.js';
import { CoreLogger } from '../../../src/action/core-logger.js';
import type { RunResult } from '../../../src/orchestrators/orchestrator.js';
import { readOutputs } from '../../helpers/run-action.js';
import { tempDir } from '../../helpers/services.js';

const run = (state: RunResult['state']): RunResult => ({ id: `r-${state}`, url: 'http://x/runs/1', state, created: true });

// What the main step hands the post step, read back from GITHUB_STATE as the runner would.
describe('JobCancellation: the state saved for the post step', () => {
  let stateFile: string;
  const saved = () => readOutputs(stateFile);

  beforeEach(() => {
    stateFile = path.join(tempDir('state'), 'github_state');
    writeFileSync(stateFile, '');
    process.env.GITHUB_STATE = stateFile;
  });
  afterEach(() => {
    delete process.env.GITHUB_STATE;
  });

  it('marks the main step first, saves each run in flight, not one already ended; finished says so', () => {
    const jobs = new JobCancellation();
    expect(saved()).toEqual({ isPost: 'true' });
    jobs.enable(() => Promise.reject(new Error('not called')), new CoreLogger());
    jobs.started('/w/a.yaml', 'a', 'PrefectOrchestrator', run('SCHEDULED'));
    jobs.started('/w/b.yaml', 'b', 'LocalOrchestrator', run('COMPLETED'));
    const runs = JSON.parse(saved()['started-runs']!) as Array<{ name: string; run: RunResult }>;
    expect(runs.map((r) => [r.name, r.run.id])).toEqual([['a', 'r-SCHEDULED']]);
    jobs.finished();
    expect(saved().finished).toBe('true');
  });

  it('with cancel-on-job-cancel false (never enabled): no run is saved, so the post step cancels nothing', () => {
    const jobs = new JobCancellation();
    jobs.started('/w/a.yaml', 'a', 'PrefectOrchestrator', run('RUNNING'));
    expect(saved()['started-runs']).toBeUndefined();
    jobs.finished();
  });
});
