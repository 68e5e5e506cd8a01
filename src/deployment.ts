import type { CiContext } from './ci-context.js';
import type { Deployment, StepKwargs } from './config/schema.js';
import { defaultImageTag, renderImageTag } from './docker/args.js';
import { prefectFlowName, WRAPPER_PARAMETER } from './packaging/entrypoint.js';
import { entrypointFor } from './packaging/files.js';
import { separateSecretParameters } from './secret-parameters.js';

/**
 * A deployment as every step reads it: the loaded `orchestrator.deployment` (name, type,
 * each step's kwargs, durations in ms) plus what derives from it, worked out once
 * (resolveDeployment) before any step runs. Nothing downstream derives these again.
 * `T`: where the chosen orchestrator will run it, decided by its plugin's `target()`
 * (PrefectOrchestrator: a work pool, a static Docker host or Kubernetes; Airflow: the DAG id).
 */
export interface ResolvedDeployment<K extends StepKwargs = StepKwargs, T = unknown> extends Deployment<K> {
  /** The orchestrator's name as chosen (decorator.orchestrator, --deployer, the input). */
  orchestrator: string;
  /**
   * `path/file.py:function` the deployment runs: deploy.flow_entrypoint (lolpop's deploy
   * kwarg), else package's, else the wrapper package generates.
   */
  entrypoint: string;
  /** Whether that is the user's own flow (run parameters as they are) or the generated wrapper (nested). */
  ownFlow: boolean;
  /** The flow's name as Prefect registers it, so `flow/deployment` lookups match. */
  flowName: string;
  /** The image package builds: package.docker_image_tag (or lolpop's default) rendered for this CI run. */
  image: string;
  /**
   * The key that makes a retried step find its run instead of starting another:
   * run.idempotency_key, else one per workflow run attempt and deployment; undefined
   * outside CI without a key.
   */
  idempotencyKey?: string;
  target: T;
  /**
   * run.secret_parameters: name → value. They are taken out of deploy.parameters and
   * run.parameters, so no step sends or records them with the others; each orchestrator
   * delivers them through its own secret store.
   */
  secretParameters: Record<string, string>;
}

/**
 * The one place a loaded deployment's derived values are worked out. A bad image tag
 * template fails here, before anything is built. `target`: the orchestrator plugin's
 * decision of where the deployment runs (absent: nothing to decide).
 */
export function resolveDeployment<K extends StepKwargs, T = undefined>(
  orchestrator: string,
  deployment: Deployment<K>,
  ci: CiContext,
  target?: (resolved: ResolvedDeployment<K, undefined>) => T,
): ResolvedDeployment<K, T> {
  const pkg = deployment.package;
  // lolpop's deploy.flow_entrypoint names the user's own flow just as package's does.
  const flow = { ...pkg, flow_entrypoint: deployment.deploy.flow_entrypoint ?? pkg.flow_entrypoint };
  const separated = separateSecretParameters(deployment.deploy.parameters, deployment.run.parameters, deployment.run.secret_parameters ?? []);
  const base: ResolvedDeployment<K, undefined> = {
    ...deployment,
    deploy: { ...deployment.deploy, ...(separated.deploy ? { parameters: separated.deploy } : {}) },
    run: { ...deployment.run, parameters: separated.run },
    secretParameters: separated.secrets,
    orchestrator,
    entrypoint: entrypointFor(flow),
    ownFlow: flow.flow_entrypoint !== undefined,
    flowName: prefectFlowName(flow),
    image: renderImageTag(pkg.docker_image_tag ?? defaultImageTag(pkg.lolpop_class, pkg.lolpop_entrypoint), ci),
    idempotencyKey: deployment.run.idempotency_key ?? attemptKey(ci, deployment.name),
    target: undefined,
  };
  return { ...base, target: (target ? target(base) : undefined) as T };
}

/**
 * One run per workflow run attempt and deployment: a retried step of the same attempt
 * finds the run it already started, a "Re-run jobs" starts a new one. (Prefect scopes
 * the key per flow, so the deployment name must be in it.)
 */
function attemptKey(ci: CiContext, deploymentName: string): string | undefined {
  const { repository, runId, runAttempt } = ci;
  if (!runId) return undefined;
  return `lolpop-deploy/${repository}/${runId}/${runAttempt || '1'}/${deploymentName}`;
}

/** Run parameters in the shape the deployment's flow takes (nested for lolpop's generated wrapper). */
export function runParameters(deployment: Pick<ResolvedDeployment, 'ownFlow'>, parameters: Record<string, unknown>): Record<string, unknown> {
  return deployment.ownFlow ? parameters : { [WRAPPER_PARAMETER]: parameters };
}
