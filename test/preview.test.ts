import { describe, expect, it } from 'vitest';
import type { ActionSettings } from '../src/inputs.js';
import { previewPlan } from '../src/preview.js';
import { ciContext } from './helpers/services.js';

const settings = (overrides: Partial<ActionSettings> = {}): ActionSettings => ({
  configFile: '/w/lolpop.yaml',
  workingDirectory: '/w',
  steps: ['package', 'deploy', 'run'],
  overrides: { kwargs: {} },
  preview: true,
  comment: 'auto',
  summary: true,
  githubToken: 't',
  ...overrides,
});
const pr = (action: string) => ciContext({ eventName: 'pull_request', pullRequestNumber: 7, event: { action, number: 7 } });

describe('previewPlan', () => {
  it('a pull request deploys <name>-pr-<N> with the steps asked for', () => {
    expect(previewPlan(settings(), pr('synchronize'))).toEqual({
      steps: ['package', 'deploy', 'run'],
      overrides: { kwargs: {}, deploymentNameSuffix: '-pr-7' },
      preview: { pullRequest: 7, closed: false },
    });
  });

  it('a closed pull request stops its preview and deletes what deploy created', () => {
    const plan = previewPlan(settings(), pr('closed'));
    expect(plan.steps).toEqual(['stop']);
    expect(plan.overrides).toEqual({ kwargs: { stop: { mode: 'delete' } }, deploymentNameSuffix: '-pr-7' });
  });

  it('the stop-kwargs input can keep a closed preview paused', () => {
    const plan = previewPlan(settings({ overrides: { kwargs: { stop: { mode: 'pause', cancel_runs: true } } } }), pr('closed'));
    expect(plan.overrides.kwargs?.stop).toEqual({ mode: 'pause', cancel_runs: true });
  });

  it('a push deploys the production name, preview or not', () => {
    const plan = previewPlan(settings(), ciContext({ eventName: 'push' }));
    expect(plan).toEqual({ steps: ['package', 'deploy', 'run'], overrides: { kwargs: {} } });
  });
});
