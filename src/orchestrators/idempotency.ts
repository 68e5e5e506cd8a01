import type { OrchestratorContext } from './orchestrator.js';

/**
 * One run per workflow run attempt and deployment: a retried step of the same
 * attempt finds the run it already started, a "Re-run jobs" starts a new one.
 * (Prefect scopes the key per flow, so the deployment name must be in it.)
 */
export function defaultIdempotencyKey(ctx: OrchestratorContext, deploymentName: string): string | undefined {
  const { repository, runId, runAttempt } = ctx.ci;
  if (!runId) return undefined;
  return `lolpop-deploy/${repository}/${runId}/${runAttempt || '1'}/${deploymentName}`;
}
