import { describe, expect, it } from 'vitest';
import { findLeaks, secretsOf } from './leaks.js';

// The detector itself must bite, or every run it passes proves nothing.
describe('the leak detector', () => {
  const secrets = secretsOf(
    { PREFECT_API_KEY: 'pnu_abcdef123', PREFECT_API_URL: 'http://ci:s3cr3t-pw@host/api', GITHUB_SHA: 'a1b2c3d4e5f6', LPD_SECRET: 'hunter2-x' },
    { 'github-token': 'ghs_token123', config: 'lolpop.yaml' },
  );

  it('finds secret-named variables, URL passwords and secret inputs, nothing else', () => {
    expect(secrets.sort()).toEqual(['ghs_token123', 'hunter2-x', 'pnu_abcdef123', 's3cr3t-pw']);
  });

  it('allows a secret in the log only after its ::add-mask::, and never in outputs, summary or comments', () => {
    const produced = {
      log: ['early pnu_abcdef123', '::add-mask::hunter2-x', 'masked hunter2-x'].join('\n'),
      outputs: { image: 'img:s3cr3t-pw' },
      summary: 'token ghs_token123',
      comments: ['clean', 'hunter2-x'],
    };
    expect(findLeaks(secrets, produced)).toEqual(['log line 1 (before its ::add-mask::)', 'output image', 'job summary', 'PR comment 2']);
    expect(findLeaks(secrets, { log: 'nothing', outputs: {}, summary: '', comments: [] })).toEqual([]);
  });
});
