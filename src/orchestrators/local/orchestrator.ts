import { sleep } from '../../duration.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DockerCli } from '../../docker/docker.js';
import { CommandError, OrchestratorError, RunFailedError } from '../../errors.js';
import { lastLines } from '../../exec.js';
import type {
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
import { packageProject, planPackage } from '../package-project.js';
import { defaultIdempotencyKey } from '../idempotency.js';
import { flowEntrypoint } from '../prefect/names.js';
import type { LocalConfig } from './config.js';
import { LAUNCHER_PY, launchSpec } from './launcher.js';
import { renderRunReport, type LogLine } from './report.js';
import { StateStore, type RunRecord } from './state.js';

/**
 * ZenML's "direct orchestration" for lolpop workflows: no server, no Docker.
 * `deploy` records the deployment in a local state folder; `run` executes it in a
 * local Python process to the end, recording its state, log and an HTML report.
 */
export class LocalOrchestrator implements Orchestrator {
  private readonly state: StateStore;

  constructor(
    private readonly config: LocalConfig,
    private readonly ctx: OrchestratorContext,
  ) {
    this.state = new StateStore(path.resolve(ctx.workdir, config.state_dir));
  }

  /** Writes the entrypoint and Dockerfile; builds the image only when a tag is given and Docker answers. */
  async package(request: PackageRequest): Promise<PackageResult> {
    const kwargs = request.kwargs;
    let buildImage = false;
    if (kwargs.package_type === 'docker' && kwargs.docker_image_tag !== undefined) {
      buildImage = await new DockerCli(this.ctx.exec, this.ctx.logger, this.ctx.env).available();
      if (!buildImage) this.ctx.logger.warning(`No Docker daemon answers: not building ${kwargs.docker_image_tag} (the local run needs no image)`);
    }
    return packageProject(request, { ...this.ctx, buildImage });
  }

  /** Nothing here talks to a server: the plan is the files, the state record and the command. */
  async plan(request: PlanRequest): Promise<PlanResult> {
    const pkg = request.packageKwargs;
    const packaged = request.steps.includes('package')
      ? planPackage(
          { deploymentName: request.deploymentName, kwargs: pkg, deployKwargs: request.deployKwargs },
          { ...this.ctx, buildImage: pkg.docker_image_tag !== undefined, condition: 'only if a Docker daemon answers; the local run needs no image' },
        )
      : { files: [], kept: [], image: undefined, actions: [] };
    const actions = [...packaged.actions];
    const entrypoint = flowEntrypoint(pkg, request.deployKwargs);
    if (request.steps.includes('deploy')) {
      // Fails the plan as it would fail deploy, when the entrypoint cannot be launched.
      launchSpec(pkg, entrypoint, this.ctx.workdir, {}, this.config.use_prefect);
      const earlier = this.state.readDeployment(request.deploymentName);
      actions.push(`${earlier ? 'update' : 'record'} deployment ${request.deploymentName} (${entrypoint}) in ${path.relative(this.ctx.workdir, this.state.root) || '.'}`);
    }
    if (request.steps.includes('run')) {
      const parameters = { ...request.deployKwargs.parameters, ...request.runKwargs.parameters };
      actions.push(`run ${entrypoint} in a local Python process (${this.ctx.env.PYTHON || this.config.python || 'python3'}) with parameters ${JSON.stringify(parameters)}`);
    }
    return { files: packaged.files, kept: packaged.kept, image: packaged.image, actions, requests: [] };
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    const entrypoint = flowEntrypoint(request.packageKwargs, request.kwargs);
    // Fails now, not at run time, when the entrypoint cannot be launched (no lolpop_class, …).
    launchSpec(request.packageKwargs, entrypoint, this.ctx.workdir, {}, this.config.use_prefect);
    const earlier = this.state.readDeployment(request.deploymentName);
    const now = new Date().toISOString();
    const id = earlier?.id ?? randomUUID();
    const file = this.state.writeDeployment({
      id,
      name: request.deploymentName,
      entrypoint,
      parameters: request.kwargs.parameters ?? {},
      package: request.packageKwargs,
      created: earlier?.created ?? now,
      updated: now,
    });
    this.ctx.logger.info(`${earlier ? 'Updated' : 'Recorded'} deployment ${request.deploymentName} (${entrypoint}) in ${file}`);
    return { id, name: request.deploymentName, url: pathToFileURL(file).href };
  }

  /** Runs the deployment to the end in a local Python process; the state is COMPLETED or FAILED. */
  async run(request: RunRequest): Promise<RunResult> {
    const name = request.deploymentName;
    const deployment = this.state.readDeployment(name);
    if (!deployment) {
      throw new OrchestratorError(
        `Failed to run: deployment '${name}' is not recorded in ${this.state.root}; run the deploy step first (lolpop-deploy build)`,
      );
    }
    const key = request.kwargs.idempotency_key ?? defaultIdempotencyKey(this.ctx, name);
    const earlier = key ? this.state.findRunByIdempotencyKey(name, key) : undefined;
    if (earlier) {
      const url = this.reportUrl(earlier.id);
      this.ctx.logger.info(`Run ${earlier.id} already existed for idempotency key ${key} (${earlier.state}): ${url}`);
      return { id: earlier.id, url, state: earlier.state, created: false };
    }

    const parameters = { ...deployment.parameters, ...request.kwargs.parameters };
    const spec = launchSpec(deployment.package, deployment.entrypoint, this.ctx.workdir, parameters, this.config.use_prefect);
    const id = newRunId();
    const dir = this.state.runDir(id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'launcher.py'), LAUNCHER_PY);
    writeFileSync(path.join(dir, 'spec.json'), `${JSON.stringify(spec, null, 2)}\n`);
    const python = this.ctx.env.PYTHON || this.config.python || 'python3';
    const command = [python, path.join(dir, 'launcher.py'), path.join(dir, 'spec.json')];
    const started = new Date();
    const record: RunRecord = {
      id,
      deployment: name,
      entrypoint: deployment.entrypoint,
      parameters,
      state: 'RUNNING',
      ...(key ? { idempotencyKey: key } : {}),
      python,
      command,
      started: started.toISOString(),
    };
    this.state.writeRun(record);
    this.ctx.logger.info(`Run ${id} of ${name}: ${command.join(' ')}`);

    const logFile = path.join(dir, 'log.txt');
    writeFileSync(logFile, '');
    const log: LogLine[] = [];
    const result = await this.ctx.exec.run(command[0]!, command.slice(1), {
      cwd: this.ctx.workdir,
      env: { ...this.ctx.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', LOLPOP_DEPLOY_RUN_ID: id, LOLPOP_DEPLOY_DEPLOYMENT: name },
      onLine: (text, stream) => {
        log.push({ stream, text });
        appendFileSync(logFile, `${text}\n`);
        this.ctx.logger.info(text);
      },
    });
    const notStarted = result.exitCode === 127 && log.length === 0;
    if (notStarted) {
      const why = lastLines(result.stderr, 1) || `${python} not found`;
      log.push({ stream: 'stderr', text: why });
      appendFileSync(logFile, `${why}\n`);
    }
    const ended = new Date();
    Object.assign(record, {
      state: result.exitCode === 0 ? 'COMPLETED' : 'FAILED',
      ended: ended.toISOString(),
      durationMs: ended.getTime() - started.getTime(),
      exitCode: result.exitCode,
    });
    this.state.writeRun(record);
    writeFileSync(path.join(dir, 'report.html'), renderRunReport(record, log));
    const url = this.reportUrl(id);
    if (notStarted) {
      throw new CommandError(
        `Failed to run ${name}: cannot start Python '${python}' (${lastLines(result.stderr, 1)}); install Python 3 or set PYTHON to its path`,
      );
    }
    if (record.state === 'FAILED') {
      const last = log.filter((l) => l.text.trim() !== '').pop()?.text.trim() ?? 'no output';
      this.ctx.logger.error(`Run ${id} FAILED (exit code ${result.exitCode}): ${last}`);
    }
    this.ctx.logger.info(`Run ${id} ${record.state} (exit code ${result.exitCode}); report: ${url}`);
    return { id, url, state: record.state, created: true };
  }

  /** A local run has already ended when run() returns: this reads its recorded state. */
  async wait(request: WaitRequest): Promise<RunResult> {
    const deadline = Date.now() + request.timeoutMs;
    let record = this.readRunOrThrow(request.run.id);
    // Only a run started by another process can still be RUNNING here.
    while (record.state === 'RUNNING' && Date.now() < deadline) {
      await sleep(Math.min(request.pollMs, Math.max(0, deadline - Date.now())));
      record = this.readRunOrThrow(request.run.id);
    }
    const result: RunResult = { ...request.run, state: record.state };
    if (record.state === 'COMPLETED') return result;
    if (record.state === 'RUNNING') {
      throw new RunFailedError(`Run ${record.id} of ${record.deployment} is still RUNNING after ${Math.round(request.timeoutMs / 1000)} s (wait-timeout): ${request.run.url}`);
    }
    const tail = lastLines(readFileSync(path.join(this.state.runDir(record.id), 'log.txt'), 'utf8'), 5);
    const last = tail.split('\n').pop()?.trim();
    throw Object.assign(
      new RunFailedError(
        `Run ${record.id} of ${record.deployment} ended ${record.state} (exit code ${record.exitCode ?? '?'}): ` +
          (last ? `${last}\nLast log lines:\n${tail.replace(/^/gm, '  ')}` : 'it printed nothing') +
          `\nReport: ${request.run.url}`,
      ),
      { result },
    );
  }

  /** Removes the deployment record; the runs' history stays. */
  async stop(request: StopRequest): Promise<StopResult> {
    const file = this.state.deploymentFile(request.deploymentName);
    if (!this.state.removeDeployment(request.deploymentName)) {
      return { stopped: false, detail: `deployment '${request.deploymentName}' is not recorded in ${this.state.root}; nothing to stop` };
    }
    return { stopped: true, detail: `removed deployment '${request.deploymentName}' (${file}); its runs stay in ${path.join(this.state.root, 'runs')}` };
  }

  private readRunOrThrow(id: string): RunRecord {
    const record = this.state.readRun(id);
    if (!record) throw new OrchestratorError(`Failed to read run ${id}: no ${path.join(this.state.runDir(id), 'run.json')}`);
    return record;
  }

  private reportUrl(id: string): string {
    return pathToFileURL(path.join(this.state.runDir(id), 'report.html')).href;
  }
}

/** `20250131T120501Z-3fa9c2`: sorts by start time, unique enough for one machine. */
function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

