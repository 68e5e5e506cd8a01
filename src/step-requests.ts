import type { StepKwargs } from './config/schema.js';
import type { ResolvedDeployment } from './deployment.js';
import type { DeployRequest, PackageRequest, PlanRequest, RunRequest, StopRequest } from './orchestrators/orchestrator.js';
import type { StepName } from './steps.js';

/**
 * What each step's request holds of the deployment: `resolved`, and the copies of its
 * parts that orchestrator modules written for 1.0 read. Made here only, so the copies
 * never drift from it. What earlier steps produced (packaged, deployment) the pipeline adds.
 */
export function stepRequests<K extends StepKwargs, T>(d: ResolvedDeployment<K, T>) {
  const common = { resolved: d, deploymentName: d.name };
  return {
    package: (): PackageRequest<K, T> => ({ ...common, kwargs: d.package, deployKwargs: d.deploy }),
    deploy: (): DeployRequest<K, T> => ({ ...common, type: d.type, kwargs: d.deploy, packageKwargs: d.package }),
    run: (): RunRequest<K, T> => ({ ...common, type: d.type, kwargs: d.run, packageKwargs: d.package, deployKwargs: d.deploy }),
    stop: (): StopRequest<K, T> => ({ ...common, type: d.type, kwargs: d.stop, packageKwargs: d.package, deployKwargs: d.deploy }),
    plan: (steps: StepName[]): PlanRequest<K, T> => ({
      ...common,
      steps,
      type: d.type,
      packageKwargs: d.package,
      deployKwargs: d.deploy,
      runKwargs: d.run,
    }),
  };
}
