import type { CiContext } from './ci-context.js';
import type { ConfigOverrides } from './config/load.js';
import type { ActionSettings } from './inputs.js';
import type { StepName } from './steps.js';

export interface Plan {
  steps: StepName[];
  overrides: ConfigOverrides;
  note?: string;
}

/**
 * Preview deployments: on a pull_request the deployment is `<name>-pr-<N>`, and
 * when that PR is closed the same workflow stops what the preview created.
 */
export function previewPlan(settings: ActionSettings, ci: CiContext): Plan {
  const plan: Plan = { steps: settings.steps, overrides: settings.overrides };
  if (!settings.preview || ci.pullRequestNumber === undefined) return plan;
  const suffix = `-pr-${ci.pullRequestNumber}`;
  const overrides: ConfigOverrides = { ...settings.overrides, deploymentNameSuffix: suffix };
  if (ci.event.action === 'closed') {
    return { steps: ['stop'], overrides, note: `Pull request #${ci.pullRequestNumber} was closed: the preview deployment is stopped.` };
  }
  return { steps: settings.steps, overrides };
}
