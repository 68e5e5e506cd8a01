import type { CiContext } from '../../src/ci-context.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { deploymentBlockFor, type Deployment, type StepKwargs } from '../../src/config/schema.js';
import { resolveDeployment, type ResolvedDeployment } from '../../src/deployment.js';
import { orchestratorLookup, orchestratorTarget } from '../../src/orchestrators/registry.js';
import { stepRequests } from '../../src/step-requests.js';
import { ciContext } from './services.js';

/**
 * A loaded config's deployment resolved as runConfig resolves it (its orchestrator's
 * target included), with `changes` over the loaded sections first: what a test varies.
 */
export function resolvedOf<K extends StepKwargs = StepKwargs, T = unknown>(
  config: Pick<LoadedConfig<K>, 'orchestrator' | 'deployment'>,
  changes: Partial<Deployment<K>> = {},
  ci: CiContext = ciContext(),
): ResolvedDeployment<K, T> {
  const deployment = { ...config.deployment, ...changes };
  return resolveDeployment(config.orchestrator, deployment, ci, orchestratorTarget(config.orchestrator) as never) as ResolvedDeployment<K, T>;
}

/** The requests the pipeline would hand each step for this config's deployment. */
export function requestsOf<K extends StepKwargs = StepKwargs, T = unknown>(
  config: Pick<LoadedConfig<K>, 'orchestrator' | 'deployment'>,
  changes: Partial<Deployment<K>> = {},
  ci: CiContext = ciContext(),
) {
  return stepRequests(resolvedOf<K, T>(config, changes, ci));
}

/**
 * A deployment of `orchestrator` named `quickstart` from already parsed sections (`parts`),
 * every other section at its defaults, resolved: for tests that have no config file.
 */
export function resolvedFrom<K extends StepKwargs = StepKwargs, T = unknown>(
  orchestrator: string,
  parts: Partial<Deployment<K>>,
  ci: CiContext = ciContext(),
): ResolvedDeployment<K, T> {
  const defaults = deploymentBlockFor(orchestratorLookup.kwargsFor(orchestrator)).parse({}) as Omit<Deployment<K>, 'name'>;
  return resolvedOf<K, T>({ orchestrator, deployment: { ...defaults, name: 'quickstart', ...parts } }, {}, ci);
}
