import type { CiContext } from '../../ci-context.js';
import type { PrefectKwargs } from './kwargs.js';
import { OrchestratorError } from '../../errors.js';
import type { ResolvedDeployment } from '../../deployment.js';
import type { WorkPool } from './api.js';
import { dockerPoolJobVariables } from './docker-pool-variables.js';
import { resourceJobVariables } from './kubernetes/job-variables.js';
import { defaultPullSteps, imageJobVariables } from './pull-steps.js';
import { prefectParameters } from './secret-blocks.js';
import { atLeast, type ServerVersion } from './version.js';

/** One schedule, in Prefect's own shapes (CronSchedule, IntervalSchedule, RRuleSchedule). */
export type Schedule = { cron: string; timezone?: string } | { interval: number; timezone?: string } | { rrule: string; timezone?: string };

export interface DeploymentSpec {
  name: string;
  flowId: string;
  workPool?: string;
  workQueue?: string;
  entrypoint: string;
  pullSteps: Array<Record<string, unknown>>;
  jobVariables: Record<string, unknown>;
  parameters: Record<string, unknown>;
  tags: string[];
  description?: string;
  version?: string;
  enforceParameterSchema?: boolean;
  /** lolpop's deployment_kwargs: what flow.deploy() would have been given. */
  schedule?: Schedule;
  paused?: boolean;
  concurrencyLimit?: number;
}

/**
 * The body of `POST /deployments/` for the server's version. Prefect's schemas
 * forbid unknown fields (422), so each field is sent only to versions that know
 * it (each `atLeast` below names the version that added the field).
 */
export function buildDeploymentBody(spec: DeploymentSpec, version: ServerVersion): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: spec.name,
    flow_id: spec.flowId,
    entrypoint: spec.entrypoint,
    pull_steps: spec.pullSteps,
    parameters: spec.parameters,
    tags: spec.tags,
    // We cannot read the flow's signature without importing its Python code, so
    // we send an open object schema: an explicit null would make every run fail
    // with 409 on servers that enforce the schema.
    parameter_openapi_schema: { title: 'Parameters', type: 'object', properties: {} },
    enforce_parameter_schema: spec.enforceParameterSchema ?? false,
  };
  if (spec.workPool) body.work_pool_name = spec.workPool;
  if (spec.workQueue) body.work_queue_name = spec.workQueue;
  if (spec.description !== undefined) body.description = spec.description;
  if (spec.version !== undefined) body.version = spec.version;
  if (atLeast(version, 2, 17)) {
    body.job_variables = spec.jobVariables;
  } else {
    body.infra_overrides = spec.jobVariables;
  }
  // A served deployment pauses itself when its process stops; deploying again
  // means "make it run", so unpause where the server has the field.
  if (atLeast(version, 2, 19)) body.paused = spec.paused ?? false;
  else if (spec.paused !== undefined) unsupported('paused', '2.19', version);
  if (spec.schedule) {
    // Sent only when asked for: the server replaces a deployment's schedules on every upsert.
    if (atLeast(version, 2, 18)) body.schedules = [{ schedule: spec.schedule, active: true }];
    else body.schedule = spec.schedule;
  }
  if (spec.concurrencyLimit !== undefined) {
    if (!atLeast(version, 3, 0)) unsupported('concurrency_limit', '3.0', version);
    body.concurrency_limit = spec.concurrencyLimit;
  }
  return body;
}

function unsupported(key: string, since: string, version: ServerVersion): never {
  throw new OrchestratorError(
    `Failed to deploy: deployment_kwargs.${key} needs a Prefect ${since}+ server; this one is ${version.raw}. Remove it or upgrade the server.`,
  );
}

/** The one schedule lolpop's deployment_kwargs may ask for (cron, interval or rrule), or none. */
export function scheduleOf(kwargs: { cron?: string; interval?: number; rrule?: string; timezone?: string } | undefined): Schedule | undefined {
  if (!kwargs) return undefined;
  const given = (['cron', 'interval', 'rrule'] as const).filter((k) => kwargs[k] !== undefined);
  if (given.length > 1) {
    throw new OrchestratorError(`Failed to deploy: deployment_kwargs gives ${given.join(' and ')}; Prefect's deploy() takes one of cron, interval, rrule`);
  }
  const tz = kwargs.timezone === undefined ? {} : { timezone: kwargs.timezone };
  if (kwargs.cron !== undefined) return { cron: kwargs.cron, ...tz };
  if (kwargs.interval !== undefined) return { interval: kwargs.interval, ...tz };
  if (kwargs.rrule !== undefined) return { rrule: kwargs.rrule, ...tz };
  if (kwargs.timezone !== undefined) throw new OrchestratorError('Failed to deploy: deployment_kwargs.timezone needs cron, interval or rrule');
  return undefined;
}

/** What a work-pool deployment is made of; the one place deploy and plan build its spec. */
export interface PoolDeploymentInput {
  deployment: ResolvedDeployment<PrefectKwargs>;
  workPool: string;
  /** The pool's type decides the pull steps and the image job variable. */
  poolType: string;
  /** The pool as the server has it, to check deploy.resources against; undefined in an offline plan. */
  pool?: WorkPool;
  image?: string;
  flowId: string;
  ci: CiContext;
  version: ServerVersion;
}

/** deploy.resources as job variables; one also given in job_variables is refused (which would win is not obvious). */
function resourceVariables(input: PoolDeploymentInput): Record<string, unknown> {
  const { deploy: kwargs, package: packageKwargs } = input.deployment;
  // The pool's type decides the form (offline, unknown: the kubernetes form, unchecked).
  const variables = input.poolType === 'docker' ? dockerPoolJobVariables(kwargs.resources, input.pool) : resourceJobVariables(kwargs.resources, input.pool);
  const twice = Object.keys(variables).filter((name) => name in (kwargs.job_variables ?? {}) || name in (packageKwargs.job_variables ?? {}));
  if (twice.length > 0) {
    throw new OrchestratorError(
      `Failed to deploy: job variable${twice.length > 1 ? 's' : ''} ${twice.join(', ')} given both by deploy.resources and in job_variables; give each once (deploy.resources is the portable form)`,
    );
  }
  return variables;
}

export function poolDeploymentSpec(input: PoolDeploymentInput): DeploymentSpec {
  const { deploy: kwargs, package: packageKwargs } = input.deployment;
  return {
    name: input.deployment.name,
    flowId: input.flowId,
    workPool: input.workPool,
    workQueue: kwargs.work_queue_name,
    entrypoint: input.deployment.entrypoint,
    pullSteps: kwargs.pull_steps ?? defaultPullSteps(input.poolType, input.ci, input.version),
    jobVariables: {
      ...imageJobVariables(input.poolType, input.image),
      ...resourceVariables(input),
      ...(packageKwargs.job_variables ?? {}),
      ...(kwargs.job_variables ?? {}),
    },
    parameters: prefectParameters(input.deployment, kwargs.parameters ?? {}),
    tags: kwargs.tags ?? [],
    description: kwargs.description,
    version: kwargs.version ?? (input.ci.shortSha || undefined),
    enforceParameterSchema: kwargs.enforce_parameter_schema,
    schedule: scheduleOf(kwargs.deployment_kwargs),
    paused: kwargs.deployment_kwargs?.paused,
    concurrencyLimit: kwargs.deployment_kwargs?.concurrency_limit,
  };
}
