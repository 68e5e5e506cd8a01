import type { CiContext } from './ci-context.js';
import type { ConfigOverrides } from './config/load.js';
import type { ActionSettings } from './inputs.js';
import type { StepName } from './steps.js';

export interface Plan {
  steps: StepName[];
  overrides: ConfigOverrides;
  /** Set when the run is a pull request's preview (deployed, or stopped on close). */
  preview?: { pullRequest: number; closed: boolean };
}

/**
 * Preview deployments (`preview: true`): on a pull_request event the deployment is
 * `<name>-pr-<N>`, and when that PR is closed (merged or not) the same workflow
 * stops what the preview created — the steps input is then ignored. Any other
 * event (a push to the default branch, a manual run) deploys the production name.
 */
export function previewPlan(settings: ActionSettings, ci: CiContext): Plan {
  const plan: Plan = { steps: settings.steps, overrides: settings.overrides };
  if (!settings.preview || ci.pullRequestNumber === undefined) return plan;
  const pullRequest = ci.pullRequestNumber;
  const overrides: ConfigOverrides = { ...settings.overrides, deploymentNameSuffix: `-pr-${pullRequest}` };
  if (ci.event.action === 'closed') {
    // A closed PR's preview is removed, not kept paused forever (PRODUCT: "what deploy
    // created is removed"); the stop-kwargs input can still say otherwise.
    const stop = { mode: 'delete', ...settings.overrides.kwargs?.stop };
    return {
      steps: ['stop'],
      overrides: { ...overrides, kwargs: { ...settings.overrides.kwargs, stop } },
      preview: { pullRequest, closed: true },
    };
  }
  return { steps: settings.steps, overrides, preview: { pullRequest, closed: false } };
}
