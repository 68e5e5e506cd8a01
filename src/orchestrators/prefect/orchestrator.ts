import { OrchestratorError, RunFailedError } from '../../errors.js';
import type {
  DeployRequest,
  DeployResult,
  Orchestrator,
  OrchestratorContext,
  PackageRequest,
  PackageResult,
  RunRequest,
  RunResult,
  StopRequest,
  StopResult,
  WaitRequest,
} from '../orchestrator.js';
import { packageProject } from '../package-project.js';
import { PrefectApi, TERMINAL_STATES, type FlowRun } from './api.js';
import { PrefectClient } from './client.js';
import type { PrefectConfig } from './config.js';
import { resolveConnection } from './connection.js';
import { flowEntrypoint, flowName as flowNameFor, runParameters } from './names.js';
import { defaultPullSteps, imageJobVariables, runsContainers } from './pull-steps.js';
import { deploymentUrl, flowRunUrl, uiBaseUrl } from './urls.js';

/**
 * lolpop's PrefectOrchestrator over Prefect's REST API: no Python and no
 * `prefect` CLI on the runner.
 */
export class PrefectOrchestrator implements Orchestrator {
  private readonly api: PrefectApi;
  private readonly ui: string;

  constructor(
    private readonly config: PrefectConfig,
    private readonly ctx: OrchestratorContext,
  ) {
    const connection = resolveConnection(ctx.env, config.prefect_settings);
    if (connection.apiKey) ctx.logger.addSecret(connection.apiKey);
    if (connection.authString) {
      ctx.logger.addSecret(connection.authString);
      ctx.logger.addSecret(Buffer.from(connection.authString).toString('base64'));
    }
    this.api = new PrefectApi(new PrefectClient(connection, { fetch: ctx.fetch, logger: ctx.logger }));
    this.ui = uiBaseUrl(connection);
  }

  /** Builds an image only for pools that run containers; a process worker clones the repository instead. */
  async package(request: PackageRequest): Promise<PackageResult> {
    const workPool = request.deployKwargs.work_pool ?? request.kwargs.work_pool;
    const pool = workPool ? await this.api.readWorkPool(workPool) : undefined;
    const buildImage = pool ? runsContainers(pool.type) : true;
    if (!buildImage) this.ctx.logger.info(`work pool ${workPool} is a '${pool?.type}' pool: no image to build`);
    return packageProject(request, { ...this.ctx, flowKwargs: this.config.flow_kwargs, buildImage });
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    const { kwargs, packageKwargs } = request;
    const workPool = kwargs.work_pool ?? packageKwargs.work_pool;
    if (!workPool) {
      throw new OrchestratorError(
        'Failed to deploy: no work pool named; set orchestrator.deployment.deploy.work_pool ' +
          '(serving on static docker/kubernetes infrastructure without a pool is not supported yet)',
      );
    }
    const version = await this.api.version();
    const pool = await this.api.readWorkPool(workPool);
    if (!pool) {
      throw new OrchestratorError(
        `Failed to deploy: work pool '${workPool}' does not exist on ${this.api.client.connection.apiUrl}; ` +
          `create it (prefect work-pool create ${workPool} --type process) or fix deploy.work_pool`,
      );
    }
    const entrypoint = flowEntrypoint(packageKwargs, kwargs);
    const flowName = flowNameFor(packageKwargs, kwargs);
    const flowId = await this.api.ensureFlow(flowName);
    const image = kwargs.docker_image_name ?? request.packaged?.image;
    const jobVariables = {
      ...imageJobVariables(pool.type, image),
      ...(packageKwargs.job_variables ?? {}),
      ...(kwargs.job_variables ?? {}),
    };
    const deployment = await this.api.upsertDeployment(
      {
        name: request.deploymentName,
        flowId,
        workPool,
        workQueue: kwargs.work_queue_name,
        entrypoint,
        pullSteps: kwargs.pull_steps ?? defaultPullSteps(pool.type, this.ctx.ci),
        jobVariables,
        parameters: runParameters(packageKwargs, kwargs, kwargs.parameters ?? {}),
        tags: kwargs.tags ?? [],
        description: kwargs.description,
        version: kwargs.version ?? (this.ctx.ci.shortSha || undefined),
        enforceParameterSchema: kwargs.enforce_parameter_schema,
      },
      version,
    );
    this.ctx.logger.info(`Deployment ${flowName}/${deployment.name} (${deployment.id}) on work pool ${workPool} [${pool.type}]`);
    return { id: deployment.id, name: `${flowName}/${deployment.name}`, url: deploymentUrl(this.ui, deployment.id) };
  }

  async run(request: RunRequest): Promise<RunResult> {
    const version = await this.api.version();
    const deploymentId = request.deployment?.id ?? (await this.findDeployment(request)).id;
    const kwargs = request.kwargs;
    const { run, created } = await this.api.createFlowRun(
      deploymentId,
      {
        parameters: runParameters(request.packageKwargs, request.deployKwargs, kwargs.parameters),
        idempotency_key: kwargs.idempotency_key ?? defaultIdempotencyKey(this.ctx, request.deploymentName),
        tags: kwargs.tags,
        name: kwargs.flow_run_name,
        job_variables: kwargs.job_variables,
      },
      version,
    );
    const url = flowRunUrl(this.ui, version.major, run.id);
    this.ctx.logger.info(
      created ? `Flow run ${run.name} (${run.id}) created: ${url}` : `Flow run ${run.name} (${run.id}) already existed for this workflow attempt: ${url}`,
    );
    return { id: run.id, url, state: run.state?.type ?? 'SCHEDULED', created };
  }

  async wait(request: WaitRequest): Promise<RunResult> {
    const deadline = Date.now() + request.timeoutMs;
    let run: FlowRun = await this.api.readFlowRun(request.run.id);
    let last = '';
    while (!TERMINAL_STATES.includes(run.state?.type ?? '')) {
      const now = `${run.state?.type ?? 'UNKNOWN'}${run.state?.name && run.state.name.toUpperCase() !== run.state.type ? ` (${run.state.name})` : ''}`;
      if (now !== last) this.ctx.logger.info(`Flow run ${run.name}: ${now}`);
      last = now;
      if (Date.now() >= deadline) {
        const hint = run.state?.type === 'SCHEDULED' ? '; no worker seems to be polling its work pool' : '';
        throw new RunFailedError(
          `Flow run ${run.name} is still ${now} after ${Math.round(request.timeoutMs / 1000)} s (wait-timeout)${hint}: ${request.run.url}`,
        );
      }
      await sleep(Math.min(request.pollMs, Math.max(0, deadline - Date.now())));
      run = await this.api.readFlowRun(request.run.id);
    }
    const state = run.state?.type ?? 'UNKNOWN';
    this.ctx.logger.info(`Flow run ${run.name}: ${state}`);
    const result = { ...request.run, state };
    if (state !== 'COMPLETED') {
      const why = await this.failureDetail(run);
      throw Object.assign(new RunFailedError(`Flow run ${run.name} ended ${state}${why ? `: ${why}` : ''} (${request.run.url})`), { result });
    }
    return result;
  }

  async stop(request: StopRequest): Promise<StopResult> {
    let deployment;
    try {
      deployment = await this.findDeployment(request);
    } catch (error) {
      if (error instanceof DeploymentNotFound) return { stopped: false, detail: `${error.message}; nothing to stop` };
      throw error;
    }
    const version = await this.api.version();
    const parts: string[] = [];
    if (request.kwargs.cancel_runs) {
      const runs = await this.api.activeFlowRuns(deployment.id);
      let cancelled = 0;
      for (const run of runs) {
        const answer = await this.api.cancelFlowRun(run.id);
        // REJECT with a CANCELLED state: a scheduled run cancelled at once; ABORT: already finished.
        if (answer.status === 'ACCEPT' || answer.state === 'CANCELLED' || answer.state === 'CANCELLING') cancelled += 1;
      }
      parts.push(`cancelled ${cancelled} of ${runs.length} active flow run(s)`);
    }
    if (request.kwargs.mode === 'delete') {
      await this.api.deleteDeployment(deployment.id);
      parts.push(`deleted deployment ${deployment.name}`);
    } else {
      await this.api.pauseDeployment(deployment.id, version);
      parts.push(`paused deployment ${deployment.name}`);
    }
    return { stopped: true, detail: parts.join('; ') };
  }

  private async findDeployment(request: RunRequest | StopRequest): Promise<{ id: string; name: string }> {
    const flowName = flowNameFor(request.packageKwargs, request.deployKwargs);
    const found = await this.api.readDeploymentByName(flowName, request.deploymentName);
    if (!found) {
      throw new DeploymentNotFound(
        `deployment '${flowName}/${request.deploymentName}' not found on ${this.api.client.connection.apiUrl}; run the deploy step first`,
      );
    }
    return { id: found.id, name: `${flowName}/${found.name}` };
  }

  private async failureDetail(run: FlowRun): Promise<string> {
    const message = run.state?.message?.trim();
    try {
      const logs = await this.api.tailLogs(run.id);
      const error = [...logs].reverse().find((l) => l.level >= 40);
      const line = error?.message.split('\n').filter((l) => l.trim()).pop();
      if (line && (!message || !message.includes(line))) return message ? `${message} — ${line}` : line;
    } catch {
      // logs are a courtesy; the state message is enough
    }
    return message ?? '';
  }
}

/**
 * One flow run per workflow run attempt and deployment: a retried step of the
 * same attempt finds the run it already started, a "Re-run jobs" starts a new one.
 */
export function defaultIdempotencyKey(ctx: OrchestratorContext, deploymentName: string): string | undefined {
  const { repository, runId, runAttempt } = ctx.ci;
  if (!runId) return undefined;
  return `lolpop-deploy/${repository}/${runId}/${runAttempt || '1'}/${deploymentName}`;
}

class DeploymentNotFound extends OrchestratorError {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
