import { OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { poll } from '../../poll.js';
import type { Deployment, PrefectApi } from './api.js';
import type { ServerVersion } from './version.js';

export interface ServedWaitOptions {
  timeoutMs: number;
  pollMs?: number;
  /**
   * The deployment as it was before this deploy (undefined: it did not exist). The
   * wait ends when the serving process has registered it again (`updated` moved on),
   * not when an old record from a previous process is found.
   */
  before?: Deployment;
  /** Says why the serving process cannot register (e.g. its container exited), or undefined while it runs. */
  check?: () => Promise<string | undefined>;
  /** Where it should be registering from, for the timeout message. */
  where: string;
}

/**
 * Polls for a deployment that a `.serve()` process registers itself
 * (`{flow}/{name}`), so deploy and run can find it by name.
 */
export async function waitForServedDeployment(
  api: PrefectApi,
  flow: string,
  name: string,
  options: ServedWaitOptions,
): Promise<Deployment> {
  const outcome = await poll(
    () => api.readDeploymentByName(flow, name),
    (found): found is Deployment => !!found && (!options.before || found.id !== options.before.id || found.updated !== options.before.updated),
    {
      timeoutMs: options.timeoutMs,
      intervalMs: options.pollMs ?? 1000,
      onPending: async () => {
        const problem = await options.check?.();
        if (problem) throw new OrchestratorError(`Failed to serve '${flow}/${name}': ${problem}`);
      },
    },
  );
  if (outcome.done) return outcome.value;
  throw new OrchestratorError(
    `Failed to find the served deployment '${flow}/${name}' on ${api.client.shownUrl} after ` +
      `${Math.round(options.timeoutMs / 1000)} s: ${options.where} has not registered it ` +
      '(does the image run flow.serve(), i.e. package.create_deployment: true, and reach PREFECT_API_URL?); raise deploy.serve_timeout if it is slow',
  );
}

/**
 * A served deployment pauses itself when its process stops (pause_on_shutdown), and
 * stop pauses work-pool ones: a deploy or run means "make it run", so resume it.
 */
export async function resumeIfPaused(api: PrefectApi, deployment: Deployment, version: ServerVersion, logger: Logger, label: string): Promise<void> {
  if (!deployment.paused) return;
  await api.resumeDeployment(deployment.id, version);
  logger.info(`Deployment ${label} was paused (by stop, or by its serving process shutting down): resumed`);
}
