import { OrchestratorError } from '../../errors.js';
import type { ResolvedDeployment } from '../../deployment.js';
import { containerNameFor } from '../../docker/args.js';
import type { PrefectDeployKwargs, PrefectKwargs, PrefectPackageKwargs } from './kwargs.js';

/**
 * Where a Prefect deployment runs, decided once from lolpop's `type` and the work pool
 * (its PrefectOrchestrator docs) when the deployment is resolved (the plugin's target()):
 * every step (package, deploy, run, stop, plan) reads `resolved.target`.
 * - `pool`: a work-pool deployment over REST (with `type: kubernetes`, a worker
 *   Deployment is applied first, which creates the pool when it is missing);
 * - `static-docker`: no pool, `type: docker`: a serving container on the Docker host
 *   (deploy.container_name, else one named after the deployment);
 * - `kubernetes-served`: no pool, `type: kubernetes`: the flow's own Deployment serves it.
 * `type: local` without a pool would serve from a process on the runner, which ends with
 * the job: refused when a step needs the target.
 */
export type PrefectTarget =
  | { kind: 'pool'; workPool: string; kubernetesWorker: boolean }
  | { kind: 'static-docker'; container: string }
  | { kind: 'kubernetes-served' }
  | { kind: 'none' };

export function prefectTarget(deployment: Pick<ResolvedDeployment<PrefectKwargs>, 'name' | 'type' | 'package' | 'deploy'>): PrefectTarget {
  const workPool = workPoolOf(deployment.package, deployment.deploy);
  if (workPool) return { kind: 'pool', workPool, kubernetesWorker: deployment.type === 'kubernetes' };
  if (deployment.type === 'docker') return { kind: 'static-docker', container: deployment.deploy.container_name ?? containerNameFor(deployment.name) };
  if (deployment.type === 'kubernetes') return { kind: 'kubernetes-served' };
  return { kind: 'none' };
}

/** A served deployment registers itself (flow.serve() in its container or pod). */
export function isServed(target: PrefectTarget): boolean {
  return target.kind === 'static-docker' || target.kind === 'kubernetes-served';
}

/** The error for `type: local` without a work pool, worded for the step that met it. */
export function noTargetError(step: 'Failed to deploy' | 'Plan'): OrchestratorError {
  return new OrchestratorError(
    step === 'Plan'
      ? "Plan: deployment.type 'local' without a work pool cannot be deployed on Prefect; set deploy.work_pool, or use type docker or kubernetes"
      : "Failed to deploy: deployment.type 'local' without a work pool would serve the flow in a process on this runner, " +
          'which ends with the job; set deploy.work_pool (e.g. a process pool), or use type docker or kubernetes',
  );
}

/** The work pool: deploy's, else package's (lolpop's package names one to build the image for it). */
function workPoolOf(pkg: PrefectPackageKwargs, deploy: PrefectDeployKwargs): string | undefined {
  return deploy.work_pool ?? pkg.work_pool;
}
