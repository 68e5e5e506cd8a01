import { describe, expect, it } from 'vitest';
import { runMany } from '../src/run-many.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('runMany', () => {
  it('runs at most maxParallel at once and returns outcomes in the order of the files', async () => {
    let running = 0;
    let most = 0;
    const files = Array.from({ length: 10 }, (_, i) => `w${i}.yaml`);
    const outcomes = await runMany(files, { maxParallel: 3, failFast: false }, async (file, outcome) => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      running -= 1;
      outcome.name = file.replace('.yaml', '');
      if (file === 'w4.yaml') throw new Error('boom');
    });
    expect(most).toBe(3);
    expect(outcomes.map((o) => o.name)).toEqual(files.map((f) => f.replace('.yaml', '')));
    expect(outcomes.map((o) => o.status)).toEqual(files.map((f) => (f === 'w4.yaml' ? 'failed' : 'succeeded')));
    expect(outcomes[4]!.error?.message).toBe('boom');
  });

  it('fail-fast starts nothing after the first failure; those running finish', async () => {
    const started: string[] = [];
    const outcomes = await runMany(['a', 'b', 'c', 'd'], { maxParallel: 2, failFast: true }, async (file) => {
      started.push(file);
      await tick();
      if (file === 'a') throw new Error('a failed');
    });
    expect(started).toEqual(['a', 'b']);
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'succeeded', 'not-started', 'not-started']);
  });

  it("a pipeline's held error marks the workflow failed", async () => {
    const outcomes = await runMany(['a'], { maxParallel: 1, failFast: false }, async (_file, outcome) => {
      outcome.result = { orchestrator: 'X', runNoun: 'run', deploymentName: 'a', steps: [], error: new Error('step failed') };
    });
    expect(outcomes[0]).toMatchObject({ status: 'failed', error: { message: 'step failed' } });
  });
});
