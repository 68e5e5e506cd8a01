import * as core from '@actions/core';
import { readCiContext } from '../ci-context.js';
import { CoreLogger } from './core-logger.js';
import { GitHubDeployments, type InFlightDeployment } from './github/deployments.js';
import { readInputs } from './inputs.js';
import { decidePreview } from './preview.js';

/*
 * The GitHub deployments whose workflow had not finished, handed from the main step to
 * the post step (core.saveState → STATE_* there): a cancelled job leaves them
 * `in_progress`, and the post step sets them to `error`, saying "cancelled".
 */
const IN_FLIGHT = 'github-deployments-in-flight';

/** The main step: the deployments in flight, each time they change (none once all ended). */
export function saveInFlight(inFlight: readonly InFlightDeployment[]): void {
  core.saveState(IN_FLIGHT, JSON.stringify(inFlight));
}

/**
 * The post step: `error` for each deployment left in flight. `error`, not `inactive`:
 * the deployment did not finish (GitHub's inactive is for one superseded or torn down,
 * and shows a transient one as destroyed).
 */
export async function markCancelledDeployments(): Promise<void> {
  const text = core.getState(IN_FLIGHT);
  const inFlight = text ? (JSON.parse(text) as InFlightDeployment[]) : [];
  if (inFlight.length === 0) return;
  const logger = new CoreLogger();
  const ci = readCiContext(process.env);
  const settings = readInputs();
  logger.addSecret(settings.githubToken);
  const plan = decidePreview(settings, ci);
  const deployments = new GitHubDeployments(
    { environment: settings.environment, token: settings.githubToken, steps: plan.steps, preview: plan.preview, several: settings.configFiles.length > 1 },
    ci,
    logger,
    () => undefined,
  );
  await deployments.cancelled(inFlight);
}
