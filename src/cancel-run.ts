import type { LoadedConfig } from './config/load.js';
import { resolveDeployment } from './deployment.js';
import type { CancelResult, RunResult } from './orchestrators/orchestrator.js';
import { orchestratorTarget } from './orchestrators/registry.js';
import { openOrchestrator, type RunEnvironment } from './run-config.js';

/**
 * Cancels a run that an earlier process (or this one) started from this config: its
 * orchestrator is opened again from the config, and asked to cancel the run by id.
 * `wait`: wait for the run to end, up to the config's stop.cancel_timeout (the post
 * step); without it, only ask (a signal leaves a few seconds before the kill).
 */
export async function cancelStartedRun(config: LoadedConfig, run: RunResult, environment: RunEnvironment, wait: boolean): Promise<CancelResult> {
  for (const secret of config.secrets) environment.logger.addSecret(secret);
  const deployment = resolveDeployment(config.orchestrator, config.deployment, environment.ci, orchestratorTarget(config.orchestrator));
  const orchestrator = await openOrchestrator(config, environment);
  if (!orchestrator.cancel) {
    return { state: run.state, detail: `${config.orchestrator} cannot cancel a run (it has no cancel method): run ${run.id} was left as it is` };
  }
  return orchestrator.cancel({ run, timeoutMs: wait ? deployment.stop.cancel_timeout : 0 });
}
