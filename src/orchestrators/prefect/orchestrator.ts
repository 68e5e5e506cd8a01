import { randomUUID } from 'node:crypto';
import { OrchestratorError } from '../../errors.js';
import { poll } from '../../poll.js';
import {
  isTerminal,
  type CancelRequest,
  type CancelResult,
  type DeployRequest,
  type DeployResult,
  type Orchestrator,
  type OrchestratorContext,
  type PackageRequest,
  type PackageResult,
  type PlanRequest,
  type PlanResult,
  type RunRequest,
  type RunResult,
  type StopRequest,
  type StopResult,
  type WaitRequest,
} from '../orchestrator.js';
import { packageProject } from '../../packaging/package-project.js';
import { PrefectApi, type Deployment, type FlowRun } from './api.js';
import { cancelActiveRuns, cancelFlowRuns, describeCancel, type CancelOptions } from './cancel-runs.js';
import { PrefectClient } from './client.js';
import type { PrefectConfig } from './config.js';
import type { PrefectKwargs } from './kwargs.js';
import { authorizationHeader, hasConnection, resolveConnection } from './connection.js';
import { serverFacts } from './server-facts.js';
import { KubernetesDeployer, type KubernetesDeployInput } from './kubernetes/deployer.js';
import { KubernetesClient, type KubeApi } from '../../kubernetes/client.js';
import { kubeconfigPath, loadKubeconfig } from '../../kubernetes/kubeconfig.js';
import { poolDeploymentSpec } from './deployment-body.js';
import type { ResolvedDeployment } from '../../deployment.js';
import { runsContainers } from './pull-steps.js';
import { deleteSecretBlocks, prefectParameters, refuseOwnFlowSecrets, writeSecretBlocks } from './secret-blocks.js';
import { resumeIfPaused, waitForServedDeployment } from './served.js';
import { StaticDockerHost, staticDockerResources } from './static-docker.js';
import { dockerPoolJobVariables } from './docker-pool-variables.js';
import { prefectRunState } from './states.js';
import { planPrefect } from './plan.js';
import { isServed, noTargetError, type PrefectTarget } from './target.js';
import { deploymentUrl, flowRunUrl, uiBaseUrl } from './urls.js';
import { waitForFlowRun, type PodCheck } from './wait-for-run.js';
import { deleteUnstartedJob, flowRunJob, jobPodProblem, type FlowRunJob } from './kubernetes/flow-run-pods.js';
import { resourceJobVariables } from './kubernetes/job-variables.js';
import type { StepName } from '../../steps.js';

/** A deployment as PrefectOrchestrator's steps read it: its kwargs and where it runs. */
type Prefected = ResolvedDeployment<PrefectKwargs, PrefectTarget>;

/**
 * lolpop's PrefectOrchestrator over Prefect's REST API: no Python and no
 * `prefect` CLI on the runner.
 */
export class PrefectOrchestrator implements Orchestrator<PrefectKwargs, PrefectTarget> {
  private session?: { api: PrefectApi; ui: string };
  /** Whether deploy wrote the secret parameters' blocks in this invocation (run need not again). */
  private secretsWritten = false;

  constructor(
    private readonly config: PrefectConfig,
    private readonly ctx: OrchestratorContext,
  ) {}

  /**
   * The connection, opened on first use: `package` needs no server (as in lolpop),
   * so a missing PREFECT_API_URL is an error only for the steps that talk to one.
   */
  private open(): { api: PrefectApi; ui: string } {
    if (this.session) return this.session;
    const connection = resolveConnection(this.ctx.env, this.config.prefect_settings, this.config.prefect_profile);
    if (connection.apiKey) this.ctx.logger.addSecret(connection.apiKey);
    // The password in PREFECT_API_URL or PREFECT_UI_URL (decoded and as written); the auth string it became below.
    for (const secret of connection.secrets ?? []) this.ctx.logger.addSecret(secret);
    for (const warning of connection.warnings ?? []) this.ctx.logger.warning(warning);
    if (connection.authString) {
      this.ctx.logger.addSecret(connection.authString);
      this.ctx.logger.addSecret(Buffer.from(connection.authString).toString('base64'));
    }
    if (connection.profile) this.ctx.logger.debug(`Prefect settings from profile '${connection.profile}' (${connection.profilesPath})`);
    // The version and pools this step already learned (other workflows of it) are not asked again.
    const facts = serverFacts(this.ctx.shared, connection.apiUrl, authorizationHeader(connection));
    const api = new PrefectApi(new PrefectClient(connection, { fetch: this.ctx.fetch, logger: this.ctx.logger, facts }));
    this.session = { api, ui: uiBaseUrl(connection) };
    return this.session;
  }

  /**
   * Every step but package talks to the server: a missing or bad URL fails before the
   * build. Plan reads a server only when one is configured (offline otherwise).
   */
  prepare(steps: readonly StepName[]): void {
    if (steps.some((step) => step !== 'package' && step !== 'plan')) this.open();
  }

  private get api(): PrefectApi {
    return this.open().api;
  }

  private get ui(): string {
    return this.open().ui;
  }

  /** Builds an image only for pools that run containers; a process worker clones the repository instead. */
  async package(request: PackageRequest<PrefectKwargs, PrefectTarget>): Promise<PackageResult> {
    const d = request.resolved;
    const workPool = d.target.kind === 'pool' ? d.target.workPool : undefined;
    if (workPool && !hasConnection(this.ctx.env, this.config.prefect_settings, this.config.prefect_profile)) {
      // lolpop's package never builds when a work pool is named; without a server we cannot
      // tell whether this pool runs containers, so do the same and say so.
      this.ctx.logger.info(`no Prefect server configured: not building an image for work pool ${workPool} (as lolpop's package); files only`);
      return packageProject(d, { ...this.ctx, buildImage: false });
    }
    const pool = workPool ? await this.api.readWorkPool(workPool) : undefined;
    // What deploy would refuse of deploy.resources is refused before a long build.
    if (d.target.kind === 'static-docker') staticDockerResources(d);
    if (pool?.type === 'docker') dockerPoolJobVariables(d.deploy.resources, pool);
    const buildImage = pool ? runsContainers(pool.type) : true;
    if (!buildImage) this.ctx.logger.info(`work pool ${workPool} is a '${pool?.type}' pool: no image to build, no Dockerfile to write`);
    // The image must speak the server's Prefect major; without a server there is nothing to compare.
    const serverPrefect = hasConnection(this.ctx.env, this.config.prefect_settings, this.config.prefect_profile)
      ? async () => (await this.api.version()).raw
      : undefined;
    return packageProject(d, { ...this.ctx, buildImage, dockerfile: buildImage, serverPrefect });
  }

  /**
   * Three kinds (lolpop's PrefectOrchestrator docs): a work pool (REST, dynamic); `docker` without a pool (a
   * serving container on the Docker host); `kubernetes` (Secret + the flow's
   * Deployment, or with a pool a worker Deployment, then the pool deployment).
   */
  async deploy(request: DeployRequest<PrefectKwargs, PrefectTarget>): Promise<DeployResult> {
    const d = request.resolved;
    const target = d.target;
    refuseOwnFlowSecrets(d);
    if (isServed(target) && d.deploy.deployment_kwargs) {
      // A served deployment is registered by flow.serve() inside the container, from run.py.
      throw new OrchestratorError(
        'Failed to deploy: deploy.deployment_kwargs apply to work-pool deployments; a served deployment (type docker or kubernetes without a work pool) does not take them yet. Set deploy.work_pool or remove them.',
      );
    }
    switch (target.kind) {
      case 'pool':
        if (target.kubernetesWorker) {
          // A pool that exists already is checked before its worker is applied (deployOnPool checks again, a new one too).
          const existing = await this.api.readWorkPool(target.workPool);
          if (existing) resourceJobVariables(d.deploy.resources, existing);
          await this.withKubernetes((k8s) => this.applyKubernetes(k8s, d, target.workPool));
        }
        return this.deployOnPool(d, request.packaged, target.workPool, target.kubernetesWorker);
      case 'kubernetes-served':
        return this.withKubernetes(async (k8s) => {
          const input = await this.applyKubernetes(k8s, d, undefined);
          return this.awaitServed(d, `the Kubernetes Deployment in ${d.deploy.namespace}`, undefined, () => k8s.problem(input));
        });
      case 'static-docker':
        return this.deployStaticDocker(d, target.container, request.packaged);
      case 'none':
        throw noTargetError('Failed to deploy');
    }
  }

  /** The Secret and, with a pool, the worker's Deployment; without one, the flow's own serving Deployment. */
  private async applyKubernetes(k8s: KubernetesDeployer, d: Prefected, workPool: string | undefined): Promise<KubernetesDeployInput> {
    const input = {
      deploymentName: d.name,
      // deploy.resources are the flow's: with a pool they go to its Jobs (job variables), not to the worker.
      kwargs: workPool ? { ...d.deploy, resources: undefined } : d.deploy,
      workPool,
      flowName: d.flowName,
      image: workPool ? undefined : servingImage(d),
    };
    const applied = await k8s.deploy(input);
    this.ctx.logger.info(`applied ${applied.join(', ')} in namespace ${d.deploy.namespace}; rolled out`);
    return input;
  }

  /** `workerStarting`: a worker was just applied, and a Prefect worker creates its pool when missing. */
  private async deployOnPool(d: Prefected, packaged: PackageResult | undefined, workPool: string, workerStarting = false): Promise<DeployResult> {
    const kwargs = d.deploy;
    // Independent look-ups in parallel: the pool is asked for while the version is (the poll's first read shares it).
    void this.api.readWorkPool(workPool).catch(() => undefined);
    const version = await this.api.version();
    const { value: pool } = await poll(() => this.api.readWorkPool(workPool), (found) => found !== undefined, {
      timeoutMs: workerStarting ? kwargs.serve_timeout : 0,
      intervalMs: 2000,
    });
    if (!pool) {
      throw new OrchestratorError(
        `Failed to deploy: work pool '${workPool}' does not exist on ${this.api.client.shownUrl}; ` +
          `create it (prefect work-pool create ${workPool} --type process) or fix deploy.work_pool`,
      );
    }
    const flowName = d.flowName;
    const flowId = await this.api.ensureFlow(flowName);
    const spec = poolDeploymentSpec({
      deployment: d,
      workPool,
      poolType: pool.type,
      pool,
      // What package built in this invocation; without it the pool's own image (a process pool needs none).
      image: kwargs.docker_image_name ?? packaged?.image,
      flowId,
      ci: this.ctx.ci,
      version,
    });
    // Before the deployment that names them: a run of it must find its blocks.
    await writeSecretBlocks(this.api, d, this.ctx.logger);
    this.secretsWritten = true;
    const deployment = await this.api.upsertDeployment(spec, version);
    this.ctx.logger.info(`Deployment ${flowName}/${deployment.name} (${deployment.id}) on work pool ${workPool} [${pool.type}]`);
    return { id: deployment.id, name: `${flowName}/${deployment.name}`, url: deploymentUrl(this.ui, deployment.id) };
  }

  async run(request: RunRequest<PrefectKwargs, PrefectTarget>): Promise<RunResult> {
    const d = request.resolved;
    // Independent look-ups in parallel: the version is asked for while the deployment is found.
    const versionRead = this.api.version();
    void versionRead.catch(() => undefined); // awaited below
    let deploymentId = request.deployment?.id;
    if (!deploymentId) {
      // deploy did not run in this invocation: the deployment may be paused (by stop,
      // or by its serving process shutting down), or still being registered by one.
      const found = isServed(d.target) ? await this.servedDeployment(d) : await this.findDeployment(d);
      await resumeIfPaused(this.api, found.deployment, await versionRead, this.ctx.logger, found.name);
      deploymentId = found.id;
    }
    const version = await versionRead;
    const kwargs = d.run;
    const parameters = prefectParameters(d, kwargs.parameters);
    // The values as this config has them now (a served deployment's deploy writes none).
    if (!this.secretsWritten) await writeSecretBlocks(this.api, d, this.ctx.logger);
    const { run, created } = await this.api.createFlowRun(
      deploymentId,
      {
        parameters,
        // Outside GitHub there is no run attempt to key on, but the POST may still be
        // retried (502 from a proxy after the run was created): one key per call.
        idempotency_key: d.idempotencyKey ?? `lolpop-deploy/${randomUUID()}`,
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
    return { id: run.id, url, state: prefectRunState(run.state?.type ?? 'SCHEDULED'), created };
  }

  /** Reads the server when one is configured (GETs only); without one, an offline plan. */
  async plan(request: PlanRequest<PrefectKwargs, PrefectTarget>): Promise<PlanResult> {
    const online = hasConnection(this.ctx.env, this.config.prefect_settings, this.config.prefect_profile);
    return planPrefect(request, this.ctx, online ? { api: this.api, shownUrl: this.api.client.shownUrl } : undefined);
  }

  async wait(request: WaitRequest): Promise<RunResult> {
    return waitForFlowRun(this.api, this.ctx.logger, request, this.podCheck());
  }

  /**
   * With a kubeconfig on the runner, a run on a kubernetes pool is followed to its Job's
   * pods, whose reasons a failure reports. They are a courtesy: a cluster that cannot be
   * read leaves the wait to the run's state (said at debug level).
   */
  private podCheck(): PodCheck | undefined {
    const onJob = this.onRunJob();
    return onJob && ((run) => onJob(run, jobPodProblem, (where, error) => this.ctx.logger.debug(`the pods of ${where} could not be read: ${error}`)));
  }

  /**
   * What a cancel does to a CANCELLING run on a kubernetes pool whose pod never started the
   * flow: its Job deleted (flow-run-pods.ts). A cluster that refuses is said once per run, as
   * a warning, and the run is left to its worker.
   */
  private jobsNeverStarted(): CancelOptions['endUnstarted'] {
    const onJob = this.onRunJob();
    const refused = new Set<string>();
    return (
      onJob &&
      (async (run) =>
        refused.has(run.id)
          ? undefined
          : onJob(run, (client, job) => deleteUnstartedJob(client, job, run.id), (where, error) => {
              refused.add(run.id);
              this.ctx.logger.warning(`flow run ${run.name}: ${where} could not be checked or deleted (the run is left to its worker): ${error}`);
            }))
    );
  }

  /**
   * `fn` on the Job of a run on a kubernetes pool, on the cluster of the runner's kubeconfig
   * (undefined without one). Undefined when the run has no Job there, or the cluster failed
   * `fn` (given to `failed` with the Job, to word).
   */
  private onRunJob():
    | ((run: FlowRun, fn: (client: KubeApi, job: FlowRunJob) => Promise<string | undefined>, failed: (where: string, error: string) => void) => Promise<string | undefined>)
    | undefined {
    const file = kubeconfigPath(this.ctx.env);
    if (!file) return undefined;
    return async (run, fn, failed) => {
      const job = flowRunJob(run.infrastructure_pid);
      if (!job || !run.work_pool_name || (await this.api.readWorkPool(run.work_pool_name))?.type !== 'kubernetes') return undefined;
      let client: KubernetesClient | undefined;
      try {
        client = new KubernetesClient(loadKubeconfig(file), this.ctx.logger);
        return await fn(client, job);
      } catch (error) {
        failed(`Job ${job.namespace}/${job.job}`, (error as Error).message);
        return undefined;
      } finally {
        client?.close();
      }
    };
  }

  /**
   * Cancels one flow run as Prefect's UI does (set_state CANCELLING; a scheduled run is
   * CANCELLED at once) and waits for its worker to end it, as stop's cancel_runs does.
   */
  async cancel(request: CancelRequest): Promise<CancelResult> {
    const started = Date.now();
    const deadline = started + Math.max(request.timeoutMs, 10_000);
    const run = await this.api.readFlowRun(request.run.id, deadline);
    const before = prefectRunState(run.state?.type);
    if (isTerminal(before)) return { state: before, detail: `flow run ${run.id} had already ended ${before}` };
    const summary = await cancelFlowRuns(this.api, [run], started, deadline, {
      logger: this.ctx.logger,
      timeoutMs: request.timeoutMs,
      endUnstarted: this.jobsNeverStarted(),
    });
    const state = summary.cancelled > 0 ? 'CANCELLED' : summary.cancelling > 0 ? 'CANCELLING' : prefectRunState((await this.api.readFlowRun(run.id, deadline)).state?.type);
    return { state, detail: `flow run ${run.id} ${state === 'CANCELLING' ? 'asked to cancel (CANCELLING)' : state}` };
  }

  /**
   * Undoes what deploy created, in an order that lets running flows be cancelled
   * by what runs them: pause, cancel runs (when asked) while the worker or serving
   * process is alive, remove the container or Kubernetes objects, then leave the
   * Prefect deployment paused (default) or delete it. What is already gone is a
   * notice, not an error.
   */
  async stop(request: StopRequest<PrefectKwargs, PrefectTarget>): Promise<StopResult> {
    const d = request.resolved;
    const { target, flowName } = d;
    const label = `${flowName}/${d.name}`;
    const deployment = await this.api.readDeploymentByName(flowName, d.name);
    const parts: string[] = [];
    let stopped = false;
    if (deployment) {
      const version = await this.api.version();
      // Pause first, so nothing new is scheduled or picked up while runs are cancelled.
      if (!deployment.paused) await this.api.pauseDeployment(deployment.id, version);
      if (d.stop.cancel_runs) {
        const summary = await cancelActiveRuns(this.api, deployment.id, {
          logger: this.ctx.logger,
          timeoutMs: d.stop.cancel_timeout,
          endUnstarted: this.jobsNeverStarted(),
        });
        parts.push(describeCancel(summary));
      }
    }
    if (target.kind === 'kubernetes-served' || (target.kind === 'pool' && target.kubernetesWorker)) {
      const k8s = await this.withKubernetes((deployer) =>
        deployer.stop({
          deploymentName: d.name,
          kwargs: d.deploy,
          workPool: target.kind === 'pool' ? target.workPool : undefined,
          mode: d.stop.mode,
          deleteSecret: d.stop.delete_secret,
        }),
      );
      stopped ||= k8s.deleted;
      parts.push(k8s.detail);
    } else if (target.kind === 'static-docker') {
      const name = target.container;
      const removed = await this.dockerHost().stopAndRemove(name, d.name);
      stopped ||= removed;
      parts.push(removed ? `removed container ${name}` : `no container ${name}`);
    }
    if (deployment) {
      stopped = true;
      if (d.stop.mode === 'delete') {
        const deleted = await this.api.deleteDeployment(deployment.id);
        parts.push(deleted ? `deleted deployment ${label}` : `deployment ${label} was already deleted`);
        // Its secret parameters' values go with it: nothing else reads those blocks.
        const blocks = await deleteSecretBlocks(this.api, d);
        if (blocks) parts.push(blocks);
      } else {
        parts.push(`paused deployment ${label}${deployment.paused ? ' (it already was)' : ''}`);
      }
    } else {
      parts.push(`no deployment ${label} on ${this.api.client.shownUrl}`);
    }
    return { stopped, detail: stopped ? parts.join('; ') : `${parts.join('; ')}: nothing to stop` };
  }

  /** Static docker: replace the serving container, then wait until its serve() has registered the deployment. */
  private async deployStaticDocker(d: Prefected, name: string, packaged: PackageResult | undefined): Promise<DeployResult> {
    const { deploy: kwargs, package: packageKwargs } = d;
    if (!packageKwargs.create_deployment && !packageKwargs.flow_entrypoint && !kwargs.docker_image_name) {
      throw new OrchestratorError(
        'Failed to deploy: deployment.type docker without a work pool runs the image as a long-lived server, ' +
          'but the generated entrypoint only serves with package.create_deployment: true; set it (or set deploy.work_pool)',
      );
    }
    // Before the old container goes: a resource Docker cannot honour leaves it serving.
    const resources = staticDockerResources(d);
    // The image as pushed in this invocation, else the one package builds (same tag).
    const image = kwargs.docker_image_name ?? packaged?.image ?? d.image;
    const host = this.dockerHost();
    // Remove the old container before reading the deployment: nothing touches it then
    // until the new container registers, so a changed `updated` means the new one did.
    await host.remove(name);
    const before = await this.api.readDeploymentByName(d.flowName, d.name);
    const id = await host.replace({
      name,
      image,
      deploymentName: d.name,
      restart: kwargs.restart_policy,
      extra: kwargs.docker_kwargs ?? [],
      resources,
    });
    this.ctx.logger.info(`container ${name} (${id.slice(0, 12)}) serving from ${image}`);
    return this.awaitServed(d, `the container ${name}`, before, () => host.problem(name));
  }

  private async awaitServed(d: Prefected, where: string, before?: Deployment, check?: () => Promise<string | undefined>): Promise<DeployResult> {
    const flowName = d.flowName;
    const version = await this.api.version();
    const deployment = await waitForServedDeployment(this.api, flowName, d.name, {
      timeoutMs: d.deploy.serve_timeout,
      before,
      check,
      where,
    });
    const label = `${flowName}/${deployment.name}`;
    await resumeIfPaused(this.api, deployment, version, this.ctx.logger, label);
    this.ctx.logger.info(`Deployment ${label} (${deployment.id}) served by ${where}`);
    return { id: deployment.id, name: label, url: deploymentUrl(this.ui, deployment.id) };
  }

  /** A served deployment, waiting for its serving process to register it if needed. */
  private async servedDeployment(d: Prefected): Promise<FoundDeployment> {
    const flowName = d.flowName;
    const deployment = await waitForServedDeployment(this.api, flowName, d.name, {
      timeoutMs: d.deploy.serve_timeout,
      where: 'its serving container or pod',
    });
    return { id: deployment.id, name: `${flowName}/${deployment.name}`, deployment };
  }

  private dockerHost(): StaticDockerHost {
    return new StaticDockerHost(this.ctx.exec, this.ctx.logger, this.ctx.env, this.api.client.connection);
  }

  /** A deployer on the cluster of the runner's kubeconfig, closed after `fn`. */
  private async withKubernetes<T>(fn: (deployer: KubernetesDeployer) => Promise<T>): Promise<T> {
    const file = kubeconfigPath(this.ctx.env);
    if (!file) {
      throw new OrchestratorError(
        'deployment.type kubernetes needs a cluster: no kubeconfig found (KUBECONFIG, else ~/.kube/config); set KUBECONFIG to a kubeconfig for the cluster',
      );
    }
    const client = new KubernetesClient(loadKubeconfig(file), this.ctx.logger);
    // It goes into the image pull Secret; a server's refusal must not show it.
    if (this.ctx.registry) this.ctx.logger.addSecret(this.ctx.registry.password);
    try {
      return await fn(new KubernetesDeployer(client, this.ctx.logger, this.ctx.workdir, this.api.client.connection, this.ctx.registry));
    } finally {
      client.close();
    }
  }

  private async findDeployment(d: Prefected): Promise<FoundDeployment> {
    const flowName = d.flowName;
    const found = await this.api.readDeploymentByName(flowName, d.name);
    if (!found) {
      throw new OrchestratorError(
        `deployment '${flowName}/${d.name}' not found on ${this.api.client.shownUrl}; run the deploy step first`,
      );
    }
    return { id: found.id, name: `${flowName}/${found.name}`, deployment: found };
  }
}

/** The serving image of a deployment without a pool: deploy.docker_image_name, else the one package builds. */
function servingImage(d: Prefected): string {
  return d.deploy.docker_image_name ?? d.image;
}

interface FoundDeployment {
  id: string;
  name: string;
  deployment: Deployment;
}
