import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, OrchestratorError } from '../../errors.js';
import { readProjectFile, TEXT_FILE_MAX_BYTES, writeProjectFile } from '../../project-files.js';
import { joinPosix, prefectFilesDir } from '../../packaging/paths.js';
import type { StepName } from '../../steps.js';
import type { AirflowKwargs } from './kwargs.js';
import type { ResolvedDeployment } from '../../deployment.js';
import type {
  CancelRequest,
  CancelResult,
  DeployRequest,
  DeployResult,
  Orchestrator,
  OrchestratorContext,
  PackageRequest,
  PackageResult,
  PlanRequest,
  PlanResult,
  RunRequest,
  RunResult,
  StopRequest,
  StopResult,
  WaitRequest,
} from '../orchestrator.js';
import { packageProject } from '../../packaging/package-project.js';
import { AirflowApi } from './api.js';
import { buildBundle, type DagBundle } from './bundle.js';
import { AirflowClient } from './client.js';
import type { AirflowConfig } from './config.js';
import { hasConnection, resolveConnection } from './connection.js';
import { deliverBundle, removeBundle } from './deliver.js';
import { GitDelivery } from './deliver-git.js';
import { S3Delivery } from './deliver-s3.js';
import { awaitParsed, nudgeParsing } from './parse.js';
import { planAirflow } from './plan.js';
import { deleteSecretVariables, writeSecretVariables } from './secret-variables.js';
import { awaitRunsEnded, failRuns, stopDag } from './stop-dag.js';
import { isTerminal, stateType } from './states.js';
import { runIdFor, type AirflowTarget } from './names.js';
import { dagRunUrl, dagUrl, parseDagRunUrl } from './urls.js';
import { waitForDagRun } from './wait-for-run.js';
import { airflowTask, runsInImage, type AirflowTask } from './task.js';

/**
 * Apache Airflow 3 over its REST API (/api/v2). A deployment is a generated DAG with one
 * task that runs the lolpop runner, delivered into the server's DAGs folder; a run is a
 * DAG run whose `conf` carries the run parameters.
 */
export class AirflowOrchestrator implements Orchestrator<AirflowKwargs, AirflowTarget> {
  private airflow?: AirflowApi;
  /** dag_run_id → dag_id of the runs this instance started, for wait. */
  private readonly runs = new Map<string, string>();
  private gitDelivery?: GitDelivery;
  private s3Delivery?: S3Delivery;
  /** Whether deploy wrote the secret parameters' Variables in this invocation (run need not again). */
  private secretsWritten = false;

  constructor(
    private readonly config: AirflowConfig,
    private readonly ctx: OrchestratorContext,
  ) {}

  /** Fails before package builds anything when a later step needs the server or the DAGs folder. */
  prepare(steps: readonly StepName[]): void {
    // A plan changes nothing and may be offline: it needs neither.
    if (steps.includes('plan')) return;
    if (steps.some((step) => step !== 'package')) this.api();
    if (steps.includes('deploy') && this.config.delivery === 'folder') this.dagsFolder();
  }

  /**
   * Writes lolpop's entrypoint (as every orchestrator does) and the DAG file deploy will
   * deliver; for the image kinds (docker, kubernetes) also the Dockerfile, and builds (and pushes) the image.
   */
  async package(request: PackageRequest<AirflowKwargs, AirflowTarget>): Promise<PackageResult> {
    const d = request.resolved;
    // A bash task runs on the worker: no image, so no Dockerfile either.
    const inImage = runsInImage(this.task(d));
    const result = await packageProject(d, { ...this.ctx, buildImage: inImage, dockerfile: inImage });
    const bundle = this.bundle(d);
    const file = dagFileInWorkdir(d.package, bundle);
    const inWorkdir = { root: this.ctx.workdir, file, what: `'${file}'` };
    const before = readProjectFile(inWorkdir, TEXT_FILE_MAX_BYTES)?.toString('utf8');
    const change = before === undefined ? 'new' : before === bundle.dagFile ? 'unchanged' : 'updated';
    writeProjectFile(inWorkdir, bundle.dagFile);
    this.ctx.logger.info(`wrote ${file} (${change}; DAG ${bundle.dagId}, release ${bundle.fingerprint})`);
    return { ...result, files: [...result.files, file], changes: { ...result.changes, [file]: change } };
  }

  /** What package → deploy → run would write and send; the server is only read, when one is configured. */
  async plan(request: PlanRequest<AirflowKwargs, AirflowTarget>): Promise<PlanResult> {
    const bundle = this.bundle(request.resolved);
    const api = hasConnection(this.ctx.env, this.config) ? this.api() : undefined;
    const configured = this.config.dags_folder ?? (this.ctx.env.AIRFLOW_DAGS_FOLDER || undefined);
    const git = this.git();
    const s3 = this.s3();
    return planAirflow(request, this.ctx, {
      bundle,
      dagFileInWorkdir: dagFileInWorkdir(request.resolved.package, bundle),
      dagsFolder: configured && !git && !s3 ? path.resolve(this.ctx.workdir, configured) : undefined,
      git: git?.target(bundle.dagId),
      s3Target: s3?.where(bundle.dagId),
      api,
    });
  }

  /**
   * Delivers the DAG and its release (into the DAGs folder, by a git push, or by an S3 upload), waits until
   * Airflow has parsed this version (its fingerprint tag, no import error), then unpauses it.
   */
  async deploy(request: DeployRequest<AirflowKwargs, AirflowTarget>): Promise<DeployResult> {
    const api = this.api();
    const bundle = this.bundle(request.resolved);
    const git = this.git();
    const s3 = this.s3();
    const dagsFolder = git || s3 ? undefined : this.dagsFolder();
    // Credentials that cannot read the repository (or bucket) fail here, before anything is written.
    await git?.checkAccess();
    await s3?.checkAccess();
    const before = await api.readDag(bundle.dagId);
    // Before the DAG that reads them: a run of it must find its Variables.
    await writeSecretVariables(api, bundle.dagId, request.resolved.secretParameters, this.ctx.logger);
    this.secretsWritten = true;
    const written = new Date();
    let delivered: { relativeFile: string; changed: boolean };
    if (git) {
      const pushed = await git.deliver(bundle, this.commitMessage('deploy', request.resolved.name, bundle));
      delivered = pushed;
      this.ctx.logger.info(`${pushed.changed ? 'Pushed' : 'Unchanged:'} ${git.where(bundle.dagId)} (release ${bundle.fingerprint}, commit ${pushed.commit})`);
    } else if (s3) {
      delivered = await s3.deliver(bundle);
      this.ctx.logger.info(`${delivered.changed ? 'Uploaded' : 'Unchanged:'} ${s3.where(bundle.dagId)} (release ${bundle.fingerprint})`);
    } else {
      delivered = deliverBundle(dagsFolder!, bundle);
      this.ctx.logger.info(`${delivered.changed ? 'Delivered' : 'Unchanged:'} ${path.join(dagsFolder!, delivered.relativeFile)} (release ${bundle.fingerprint})`);
    }
    const bundleName = this.bundleName();
    await nudgeParsing(api, this.ctx.logger, before, bundleName);
    const dag = await awaitParsed(api, this.ctx.logger, {
      dagId: bundle.dagId,
      fingerprint: bundle.fingerprint,
      relativeFile: delivered.relativeFile,
      // An unchanged file is not parsed again: an import error recorded for it before is this content's.
      since: delivered.changed ? written : new Date(0),
      timeoutMs: this.config.parse_timeout,
      nudgeWith: before,
      bundleName,
    });
    if (dag.is_paused) await api.setPaused(bundle.dagId, false);
    const url = dagUrl(api.client.connection.uiUrl, bundle.dagId, await api.client.apiVersion());
    this.ctx.logger.info(`DAG ${bundle.dagId} is ${before ? 'updated' : 'deployed'} and unpaused: ${url}`);
    return { id: bundle.dagId, name: bundle.dagId, url };
  }

  /**
   * Triggers a DAG run with the run parameters as conf. With an idempotency key (one per
   * workflow run attempt in GitHub Actions) the run id is derived from it: a retried step
   * gets a 409, reads that run and returns it instead of starting another.
   */
  async run(request: RunRequest<AirflowKwargs, AirflowTarget>): Promise<RunResult> {
    const api = this.api();
    const d = request.resolved;
    const dagId = d.target.dagId;
    const dag = await api.readDag(dagId);
    if (!dag) {
      throw new OrchestratorError(`Failed to run ${d.name}: Airflow at ${api.client.connection.baseUrl} has no DAG '${dagId}'; deploy it first`);
    }
    if (dag.is_paused) {
      throw new OrchestratorError(
        `Failed to run ${d.name}: the DAG '${dagId}' is paused (stopped?), so a run would stay queued; deploy again to unpause it`,
      );
    }
    // The values as this config has them now, when deploy did not write them in this invocation.
    if (!this.secretsWritten) await writeSecretVariables(api, dagId, d.secretParameters, this.ctx.logger);
    const key = d.idempotencyKey;
    const conf = d.run.parameters;
    const runId = key ? runIdFor(key) : null;
    let run = await api.triggerRun(dagId, runId, conf);
    let created = true;
    if (!run) {
      // 409: this id exists (Airflow's 409 does not say why; the GET does).
      run = await api.readRun(dagId, runId!);
      if (!run) throw new OrchestratorError(`Failed to run ${d.name}: Airflow answered 409 for run ${runId} of '${dagId}', but has no such run`);
      created = false;
      if (JSON.stringify(run.conf ?? {}) !== JSON.stringify(conf)) {
        this.ctx.logger.warning(`Run ${runId} exists already with other parameters (${JSON.stringify(run.conf ?? {})}); it is reused, not restarted`);
      }
    }
    const url = dagRunUrl(api.client.connection.uiUrl, dagId, run.dag_run_id, await api.client.apiVersion());
    this.runs.set(run.dag_run_id, dagId);
    this.ctx.logger.info(
      created ? `Triggered run ${run.dag_run_id} of DAG ${dagId}: ${url}` : `Run ${run.dag_run_id} of DAG ${dagId} already existed for idempotency key ${key} (${run.state}): ${url}`,
    );
    return { id: run.dag_run_id, url, state: stateType(run.state), created };
  }

  async wait(request: WaitRequest): Promise<RunResult> {
    const dagId = this.runs.get(request.run.id) ?? parseDagRunUrl(request.run.url)?.dagId;
    if (!dagId) throw new OrchestratorError(`Failed to wait for run ${request.run.id}: its DAG is unknown (URL ${request.run.url})`);
    return waitForDagRun(this.api(), this.ctx.logger, dagId, request);
  }

  /**
   * Cancels one run the Airflow way: marked failed (the worker kills its running task),
   * then waits for its tasks to end. Its DAG comes from the run's URL (a new process may ask).
   */
  async cancel(request: CancelRequest): Promise<CancelResult> {
    const dagId = this.runs.get(request.run.id) ?? parseDagRunUrl(request.run.url)?.dagId;
    if (!dagId) throw new OrchestratorError(`Failed to cancel run ${request.run.id}: its DAG is unknown (URL ${request.run.url})`);
    const api = this.api();
    const run = await api.readRun(dagId, request.run.id);
    if (!run) return { state: 'UNKNOWN', detail: `no run ${request.run.id} of DAG ${dagId} on ${api.client.connection.baseUrl}: nothing to cancel` };
    if (run.state === 'success') return { state: 'COMPLETED', detail: `run ${run.dag_run_id} of DAG ${dagId} had already ended COMPLETED` };
    const still = (busy: number) => (busy > 0 ? ` (${busy} task(s) still running)` : '');
    // Failed already (cancelled by an earlier ask, or by itself): its task may still be being killed.
    if (isTerminal(run.state)) {
      const busy = await awaitRunsEnded(api, this.ctx.logger, dagId, [run.dag_run_id], request.timeoutMs);
      return { state: 'FAILED', detail: `run ${run.dag_run_id} of DAG ${dagId} is failed${still(busy)}` };
    }
    const { busy } = await failRuns(api, this.ctx.logger, dagId, [run], request.timeoutMs);
    return { state: 'CANCELLED', detail: `run ${run.dag_run_id} of DAG ${dagId} marked failed${still(busy)}` };
  }

  /** Pauses the DAG (default) or deletes it with its files; active runs are marked failed when asked, and always before a delete. */
  async stop(request: StopRequest<AirflowKwargs, AirflowTarget>): Promise<StopResult> {
    const { target, stop, secretParameters } = request.resolved;
    const dagId = target.dagId;
    // A delete must remove the file first, or Airflow's next parse brings the DAG back:
    // without the DAGs folder (or access to the repository or bucket), fail before anything changes.
    const git = this.git();
    const s3 = this.s3();
    const folder = stop.mode === 'delete' && !git && !s3 ? this.dagsFolder() : undefined;
    if (stop.mode === 'delete') {
      await git?.checkAccess();
      await s3?.checkAccess();
    }
    const result = await stopDag(this.api(), this.ctx.logger, {
      dagId,
      mode: stop.mode,
      failRuns: stop.cancel_runs || stop.mode === 'delete',
      timeoutMs: stop.cancel_timeout,
      removeFiles: () =>
        git ? git.remove(dagId, this.commitMessage('stop', request.resolved.name)) : s3 ? s3.remove(dagId) : folder ? removeBundle(folder, dagId) : false,
      bundleName: this.bundleName(),
    });
    if (stop.mode !== 'delete') return result;
    // Its secret parameters' values go with it: nothing else reads those Variables.
    const variables = await deleteSecretVariables(this.api(), dagId, secretParameters);
    return variables ? { stopped: true, detail: `${result.detail}; ${variables}` } : result;
  }

  private bundle(deployment: AirflowDeployment): DagBundle {
    return buildBundle({ deployment, workdir: this.ctx.workdir, task: this.task(deployment), extraTags: this.config.dag_tags });
  }

  /** delivery: git's pusher, or undefined for the folder delivery. */
  private git(): GitDelivery | undefined {
    if (this.config.delivery !== 'git') return undefined;
    this.gitDelivery ??= new GitDelivery(this.config.git!, this.ctx.logger, { env: this.ctx.env, workdir: this.ctx.workdir });
    return this.gitDelivery;
  }

  /** delivery: s3's uploader, or undefined for the other deliveries. */
  private s3(): S3Delivery | undefined {
    if (this.config.delivery !== 's3') return undefined;
    this.s3Delivery ??= new S3Delivery(this.config.s3!, this.ctx.logger);
    return this.s3Delivery;
  }

  /** The bundle a new DAG's parse is nudged through: the dags-folder one, git.bundle_name, s3.bundle_name, or none known (null). */
  private bundleName(): string | null | undefined {
    if (this.config.delivery === 'git') return this.config.git!.bundle_name ?? null;
    if (this.config.delivery === 's3') return this.config.s3!.bundle_name ?? null;
    return undefined;
  }

  /** One commit per deploy or stop, naming the workflow and the commit it came from. */
  private commitMessage(step: 'deploy' | 'stop', name: string, bundle?: DagBundle): string {
    const { repository, sha } = this.ctx.ci;
    const source = repository || sha ? ` from ${repository || 'the working directory'}${sha ? `@${sha}` : ''}` : '';
    return step === 'deploy'
      ? `lolpop-deploy: deploy ${name} (DAG ${bundle!.dagId}, release ${bundle!.fingerprint})${source}`
      : `lolpop-deploy: remove ${name}${source}`;
  }

  private task(deployment: AirflowDeployment): AirflowTask {
    return airflowTask(this.config, this.ctx.env, deployment);
  }

  /** orchestrator.config.dags_folder, else AIRFLOW_DAGS_FOLDER; relative to the working directory. */
  private dagsFolder(): string {
    const folder = this.config.dags_folder ?? (this.ctx.env.AIRFLOW_DAGS_FOLDER || undefined);
    if (!folder) {
      throw new ConfigError(
        "orchestrator.config.dags_folder is not set (nor AIRFLOW_DAGS_FOLDER): name the Airflow server's DAGs folder to deliver the DAG to (a path on this machine, e.g. a mounted volume)",
      );
    }
    const resolved = path.resolve(this.ctx.workdir, folder);
    if (!existsSync(resolved)) throw new ConfigError(`The Airflow DAGs folder ${resolved} does not exist (orchestrator.config.dags_folder / AIRFLOW_DAGS_FOLDER)`);
    return resolved;
  }

  private api(): AirflowApi {
    if (!this.airflow) {
      const connection = resolveConnection(this.ctx.env, this.config);
      const client = new AirflowClient(connection, {
        fetch: this.ctx.fetch,
        logger: this.ctx.logger,
        timeoutMs: this.config.request_timeout,
        shared: this.ctx.shared,
      });
      this.airflow = new AirflowApi(client);
    }
    return this.airflow;
  }
}

/** A deployment as this orchestrator's steps read it: resolved with its DAG id. */
type AirflowDeployment = ResolvedDeployment<AirflowKwargs, AirflowTarget>;

/** Where package writes the DAG file for review: `{prefect_files}/airflow/<dag_id>.py`. */
function dagFileInWorkdir(kwargs: PackageRequest['kwargs'], bundle: DagBundle): string {
  return joinPosix(prefectFilesDir(kwargs), 'airflow', bundle.dagFileName);
}
