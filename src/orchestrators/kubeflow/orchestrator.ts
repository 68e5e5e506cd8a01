import { OrchestratorError } from '../../errors.js';
import { readProjectFile, TEXT_FILE_MAX_BYTES, writeProjectFile } from '../../project-files.js';
import { joinPosix, prefectFilesDir } from '../../packaging/paths.js';
import { packageProject } from '../../packaging/package-project.js';
import type { StepName } from '../../steps.js';
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
import { KubeflowApi, type KfpPipeline, type KfpPipelineVersion, type RecurringRunBody } from './api.js';
import type { KubeflowConfig } from './config.js';
import { resolveConnection } from './connection.js';
import { buildPipelineIr, PARAMS_PARAMETER, type KubeflowDeployment, type PipelineIr } from './ir.js';
import type { KubeflowKwargs, KubeflowSchedule } from './kwargs.js';
import { recurringRunNameFor, runNameFor, versionNameFor, type KubeflowTarget } from './names.js';
import { isTerminal, stateType } from './states.js';
import { parseRunUrl, pipelineVersionUrl, runUrl } from './urls.js';
import { waitForKfpRun } from './wait-for-run.js';

/**
 * Kubeflow Pipelines v2 over its REST API (/apis/v2beta1), no Python on the runner. A
 * deployment is a pipeline with one version per IR content (the package's image, the
 * runner, resources); a run is a KFP run of that version with the run parameters as the
 * `params_json` pipeline parameter.
 */
export class KubeflowPipelinesOrchestrator implements Orchestrator<KubeflowKwargs, KubeflowTarget> {
  private kfp?: KubeflowApi;

  constructor(
    private readonly config: KubeflowConfig,
    private readonly ctx: OrchestratorContext,
  ) {}

  /** Fails before package builds anything when a later step needs the server and none is configured. */
  prepare(steps: readonly StepName[]): void {
    if (steps.includes('plan')) return;
    if (steps.some((step) => step !== 'package')) this.api();
  }

  /** The image, as every container orchestrator builds it, and the IR written for review. */
  async package(request: PackageRequest<KubeflowKwargs, KubeflowTarget>): Promise<PackageResult> {
    const d = request.resolved;
    // Before the build: a setting KFP cannot take fails without building anything.
    const ir = buildPipelineIr(d);
    const result = await packageProject(d, { ...this.ctx, buildImage: true, dockerfile: true });
    const file = irFileInWorkdir(d);
    const inWorkdir = { root: this.ctx.workdir, file, what: `'${file}'` };
    const before = readProjectFile(inWorkdir, TEXT_FILE_MAX_BYTES)?.toString('utf8');
    const change = before === undefined ? 'new' : before === ir.text ? 'unchanged' : 'updated';
    writeProjectFile(inWorkdir, ir.text);
    this.ctx.logger.info(`wrote ${file} (${change}; pipeline ${d.target.pipeline}, version ${versionNameFor(d.target.pipeline, ir.text)})`);
    return { ...result, files: [...result.files, file], changes: { ...result.changes, [file]: change } };
  }

  /**
   * Creates the pipeline once, then a version per IR content: the same content finds its
   * version and creates nothing. With deploy.schedule, one recurring run of this version.
   */
  async deploy(request: DeployRequest<KubeflowKwargs, KubeflowTarget>): Promise<DeployResult> {
    const api = this.api();
    const d = request.resolved;
    const ir = buildPipelineIr(d);
    const description = pipelineDescription(d);
    const pipeline = (await api.findPipeline(d.target.pipeline)) ?? (await this.created(api.createPipeline(d.target.pipeline, description), `pipeline ${d.target.pipeline}`));
    const versionName = versionNameFor(d.target.pipeline, ir.text);
    let version = await api.findVersion(pipeline.pipeline_id, versionName);
    if (version) this.ctx.logger.info(`Unchanged: pipeline version ${versionName} exists already`);
    else version = await this.created(api.uploadVersion(pipeline.pipeline_id, versionName, description, ir.text), `pipeline version ${versionName}`);
    const url = pipelineVersionUrl(api.connection.uiUrl, pipeline.pipeline_id, version.pipeline_version_id);
    if (d.deploy.schedule) await this.schedule(api, d, pipeline, version, d.deploy.schedule);
    this.ctx.logger.info(`Pipeline ${d.target.pipeline} is deployed as version ${versionName}: ${url}`);
    return { id: version.pipeline_version_id, name: `${d.target.pipeline}/${versionName}`, url };
  }

  /**
   * Creates a run of the deployed version with the run parameters. KFP has no
   * idempotency key: with one, the run's display name is derived from it and looked up
   * first, so a retried step finds its run instead of starting another.
   */
  async run(request: RunRequest<KubeflowKwargs, KubeflowTarget>): Promise<RunResult> {
    const api = this.api();
    const d = request.resolved;
    const { pipeline, version } = await this.deployedVersion(api, d, buildPipelineIr(d));
    const experimentId = await api.experimentId(this.config.experiment);
    const name = runNameFor(d.target.pipeline, d.idempotencyKey, new Date());
    const existing = d.idempotencyKey ? await api.findRun(experimentId, name) : undefined;
    if (existing) {
      const url = runUrl(api.connection.uiUrl, existing.run_id);
      this.ctx.logger.info(`Run ${name} already existed for idempotency key ${d.idempotencyKey} (${existing.state ?? 'no state yet'}): ${url}`);
      return { id: existing.run_id, url, state: stateType(existing.state), created: false };
    }
    const run = await api.createRun({
      display_name: name,
      description: `lolpop-deploy: ${d.name}`,
      experiment_id: experimentId,
      pipeline_version_reference: { pipeline_id: pipeline.pipeline_id, pipeline_version_id: version.pipeline_version_id },
      runtime_config: { parameters: { [PARAMS_PARAMETER]: JSON.stringify(d.run.parameters) } },
      ...serviceAccount(d),
    });
    const url = runUrl(api.connection.uiUrl, run.run_id);
    this.ctx.logger.info(`Created run ${name} of ${d.target.pipeline}: ${url}`);
    return { id: run.run_id, url, state: stateType(run.state), created: true };
  }

  async wait(request: WaitRequest): Promise<RunResult> {
    const runId = parseRunUrl(request.run.url) ?? request.run.id;
    return waitForKfpRun(this.api(), this.ctx.logger, { ...request, run: { ...request.run, id: runId } });
  }

  /**
   * pause: disables the recurring run. delete: deletes it. Runs still going are
   * terminated when stop.cancel_runs (always with delete); with delete_versions, the
   * versions and the pipeline go too.
   */
  async stop(request: StopRequest<KubeflowKwargs, KubeflowTarget>): Promise<StopResult> {
    const api = this.api();
    const d = request.resolved;
    const { stop } = d;
    const pipeline = await api.findPipeline(d.target.pipeline);
    if (!pipeline) return { stopped: false, detail: `KFP has no pipeline '${d.target.pipeline}'; nothing to stop` };
    const done: string[] = [];
    const experimentId = await api.experimentId(this.config.experiment);
    const recurring = await api.findRecurringRun(experimentId, recurringRunNameFor(d.target.pipeline));
    if (recurring && stop.mode === 'delete') {
      await api.deleteRecurringRun(recurring.recurring_run_id);
      done.push(`deleted the recurring run ${recurring.recurring_run_id}`);
    } else if (recurring && recurring.mode !== 'DISABLE') {
      await api.disableRecurringRun(recurring.recurring_run_id);
      done.push(`disabled the recurring run ${recurring.recurring_run_id}`);
    }
    if (stop.cancel_runs || stop.mode === 'delete') {
      const prefix = `${d.target.pipeline}-run-`;
      const active = (await api.listRuns(experimentId, prefix)).filter(
        (r) => !isTerminal(r.state) && r.state !== 'CANCELING' && (r.pipeline_version_reference?.pipeline_id ?? pipeline.pipeline_id) === pipeline.pipeline_id,
      );
      for (const run of active) await api.terminateRun(run.run_id);
      if (active.length > 0) done.push(`terminated ${active.length} run(s): ${active.map((r) => r.run_id).join(', ')}`);
    }
    if (stop.mode === 'delete' && stop.delete_versions) {
      const versions = await api.listVersions(pipeline.pipeline_id);
      for (const version of versions) await api.deleteVersion(pipeline.pipeline_id, version.pipeline_version_id);
      await api.deletePipeline(pipeline.pipeline_id);
      done.push(`deleted ${versions.length} version(s) and the pipeline ${pipeline.pipeline_id}`);
    }
    const detail = done.length > 0 ? done.join('; ') : `pipeline ${d.target.pipeline}: nothing running or scheduled`;
    this.ctx.logger.info(detail);
    return { stopped: done.length > 0, detail };
  }

  /** The pipeline and the version holding this IR, which deploy must have uploaded. */
  private async deployedVersion(api: KubeflowApi, d: KubeflowDeployment, ir: PipelineIr): Promise<{ pipeline: KfpPipeline; version: KfpPipelineVersion }> {
    const versionName = versionNameFor(d.target.pipeline, ir.text);
    const pipeline = await api.findPipeline(d.target.pipeline);
    const version = pipeline ? await api.findVersion(pipeline.pipeline_id, versionName) : undefined;
    if (!pipeline || !version) {
      throw new OrchestratorError(
        `Failed to run ${d.name}: KFP at ${api.connection.host} has no ${pipeline ? `version ${versionName} of ` : ''}pipeline '${d.target.pipeline}' ` +
          '(this config and image are not deployed); deploy first',
      );
    }
    return { pipeline, version };
  }

  /**
   * One recurring run per deployment, of the deployed version. KFP cannot change a
   * recurring run's version: one of another version is deleted and created again.
   */
  private async schedule(api: KubeflowApi, d: KubeflowDeployment, pipeline: KfpPipeline, version: KfpPipelineVersion, schedule: KubeflowSchedule): Promise<void> {
    const experimentId = await api.experimentId(this.config.experiment);
    const name = recurringRunNameFor(d.target.pipeline);
    const existing = await api.findRecurringRun(experimentId, name);
    if (existing?.pipeline_version_reference?.pipeline_version_id === version.pipeline_version_id && existing.mode !== 'DISABLE') {
      this.ctx.logger.info(`Unchanged: recurring run ${name} runs this version`);
      return;
    }
    if (existing) await api.deleteRecurringRun(existing.recurring_run_id);
    const body: RecurringRunBody = {
      display_name: name,
      description: `lolpop-deploy: ${d.name} on a schedule`,
      experiment_id: experimentId,
      pipeline_version_reference: { pipeline_id: pipeline.pipeline_id, pipeline_version_id: version.pipeline_version_id },
      runtime_config: { parameters: { [PARAMS_PARAMETER]: '{}' } },
      trigger: schedule.cron !== undefined ? { cron_schedule: { cron: schedule.cron } } : { periodic_schedule: { interval_second: String(schedule.interval) } },
      max_concurrency: String(schedule.max_concurrency),
      mode: 'ENABLE',
      no_catchup: schedule.no_catchup,
      ...serviceAccount(d),
    };
    const created = await api.createRecurringRun(body);
    this.ctx.logger.info(`${existing ? 'Replaced' : 'Created'} the recurring run ${name} (${created.recurring_run_id})`);
  }

  private async created<T>(creating: Promise<T>, what: string): Promise<T> {
    const value = await creating;
    this.ctx.logger.info(`Created ${what}`);
    return value;
  }

  private api(): KubeflowApi {
    this.kfp ??= new KubeflowApi(resolveConnection(this.config, this.ctx.env, this.ctx.workdir), {
      fetch: this.ctx.fetch,
      logger: this.ctx.logger,
      timeoutMs: this.config.request_timeout,
    });
    return this.kfp;
  }
}

/** Where package writes the IR for review: `{prefect_files}/kubeflow/<pipeline>.yaml`. */
function irFileInWorkdir(d: KubeflowDeployment): string {
  return joinPosix(prefectFilesDir(d.package), 'kubeflow', `${d.target.pipeline}.yaml`);
}

function pipelineDescription(d: KubeflowDeployment): string {
  return d.deploy.description ?? `lolpop-deploy: ${d.name} (${d.entrypoint})`;
}

/** deploy.resources.service_account: a field of the run in KFP, not of the IR. */
function serviceAccount(d: KubeflowDeployment): { service_account?: string } {
  const account = d.deploy.resources?.service_account;
  return account ? { service_account: account } : {};
}
