import { formatDuration } from '../../duration.js';
import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DockerCli } from '../../docker/docker.js';
import { CommandError, OrchestratorError, RunEndedError, RunFailedError, RunTimeoutError } from '../../errors.js';
import { lastLines } from '../../exec.js';
import { poll } from '../../poll.js';
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
import { packageProject, planPackage } from '../../packaging/package-project.js';
import { DEFAULT_LIMITS, describeExit, startChild, type ChildOutcome, type OutputLimits, type RunningChild } from './child.js';
import { resolveStateDir, type LocalConfig } from './config.js';
import { LAUNCHER_PY, launchSpec, secretParameterVariables } from '../../packaging/launcher.js';
import { redactedParameters } from '../../secret-parameters.js';
import { renderRunReport, type LogLine } from './report.js';
import { KILL_GRACE_MS, ProcessGroup } from '../../process/group.js';
import { raiseAgain, signalGuard, type Raise, type SignalSource } from '../../process/signals.js';
import { currentOwner, newRunId, pidExists, readTail, startTicks, StateStore, type LocalRunState, type RunRecord } from './state.js';
import { writeFileAtomic } from '../../project-files.js';

/** Runs executing in this process: a record naming this pid but not here is stale. */
const activeRuns = new Set<string>();

export interface LocalRunOptions {
  limits?: Partial<OutputLimits>;
  /** Between SIGTERM and SIGKILL to what a run started (default KILL_GRACE_MS, 5 s). */
  killGraceMs?: number;
  signals?: SignalSource;
  /** After a signal cancelled the runs in flight and they are recorded; default: raise it again on this process. */
  onSignalled?: Raise;
}

/**
 * ZenML's "direct orchestration" for lolpop workflows: no server, no Docker.
 * `deploy` records the deployment in a local state folder; `run` executes it in a
 * local Python process (its own process group) to the end or the wait-timeout,
 * recording its state, log and an HTML report.
 */
export class LocalOrchestrator implements Orchestrator {
  private readonly state: StateStore;
  private readonly limits: OutputLimits;
  private readonly killGraceMs: number;
  private readonly signals: SignalSource;
  private readonly onSignalled: Raise;

  constructor(
    private readonly config: LocalConfig,
    private readonly ctx: OrchestratorContext,
    options: LocalRunOptions = {},
  ) {
    this.state = new StateStore(resolveStateDir(config.state_dir, ctx.workdir));
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.killGraceMs = options.killGraceMs ?? KILL_GRACE_MS;
    this.signals = options.signals ?? process;
    this.onSignalled = options.onSignalled ?? raiseAgain;
  }

  /** Writes the entrypoint and Dockerfile; builds the image only when a tag is given and Docker answers. */
  async package(request: PackageRequest): Promise<PackageResult> {
    const kwargs = request.resolved.package;
    let buildImage = false;
    if (kwargs.package_type === 'docker' && kwargs.docker_image_tag !== undefined) {
      buildImage = await new DockerCli(this.ctx.exec, this.ctx.logger, this.ctx.env).available();
      if (!buildImage) this.ctx.logger.warning(`No Docker daemon answers: not building ${kwargs.docker_image_tag} (the local run needs no image)`);
    }
    return packageProject(request.resolved, { ...this.ctx, buildImage });
  }

  /** Nothing here talks to a server: the plan is the files, the state record and the command. */
  async plan(request: PlanRequest): Promise<PlanResult> {
    const pkg = request.resolved.package;
    const packaged = request.steps.includes('package')
      ? planPackage(request.resolved, { ...this.ctx, buildImage: pkg.docker_image_tag !== undefined, condition: 'only if a Docker daemon answers; the local run needs no image' },
        )
      : { files: [], kept: [], image: undefined, actions: [] };
    const actions = [...packaged.actions];
    const entrypoint = request.resolved.entrypoint;
    if (request.steps.includes('deploy')) {
      // Fails the plan as it would fail deploy, when the entrypoint cannot be launched.
      launchSpec(pkg, entrypoint, this.ctx.workdir, {}, this.config.use_prefect);
      const earlier = this.state.readDeployment(request.resolved.name);
      actions.push(`${earlier ? 'update' : 'record'} deployment ${request.resolved.name} (${entrypoint}) in ${path.relative(this.ctx.workdir, this.state.root) || '.'}`);
    }
    if (request.steps.includes('run')) {
      const parameters = redactedParameters({ ...request.resolved.deploy.parameters, ...request.resolved.run.parameters }, Object.keys(request.resolved.secretParameters));
      const secrets = Object.keys(request.resolved.secretParameters).length > 0 ? ' (secret parameters *** through its environment)' : '';
      actions.push(`run ${entrypoint} in a local Python process (${this.ctx.env.PYTHON || this.config.python || 'python3'}) with parameters ${JSON.stringify(parameters)}${secrets}`);
    }
    return { files: packaged.files, kept: packaged.kept, image: packaged.image, actions, requests: [] };
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    const d = request.resolved;
    const entrypoint = d.entrypoint;
    // Fails now, not at run time, when the entrypoint cannot be launched (no lolpop_class, …).
    launchSpec(d.package, entrypoint, this.ctx.workdir, {}, this.config.use_prefect);
    const earlier = this.state.readDeployment(request.resolved.name);
    const now = new Date().toISOString();
    const id = earlier?.id ?? randomUUID();
    const file = this.state.writeDeployment({
      id,
      name: request.resolved.name,
      entrypoint,
      parameters: d.deploy.parameters ?? {},
      package: d.package,
      created: earlier?.created ?? now,
      updated: now,
    });
    this.ctx.logger.info(`${earlier ? 'Updated' : 'Recorded'} deployment ${request.resolved.name} (${entrypoint}) in ${file}`);
    return { id, name: request.resolved.name, url: pathToFileURL(file).href };
  }

  /**
   * Runs the deployment in a local Python process, in its own process group, to the end:
   * COMPLETED, FAILED (non-zero exit) or CRASHED (killed by a signal from elsewhere). With
   * wait, the wait-timeout applies: the group is stopped there and the run is CANCELLED.
   * A SIGTERM/SIGINT to lolpop-deploy meanwhile stops the group too, records the
   * run CANCELLED, and then ends lolpop-deploy with that signal.
   */
  async run(request: RunRequest): Promise<RunResult> {
    const d = request.resolved;
    const name = d.name;
    const deployment = this.state.readDeployment(name);
    if (!deployment) {
      throw new OrchestratorError(
        `Failed to run: deployment '${name}' is not recorded in ${this.state.root}; run the deploy step first (lolpop-deploy build)`,
      );
    }
    const key = d.idempotencyKey;
    const earlier = key ? await this.state.findRunByIdempotencyKey(name, key) : undefined;
    if (earlier) return this.existingRun(earlier, key!);
    const ending = signalGuard(this.signals).signal;
    if (ending) throw new RunFailedError(`Not starting a run of ${name}: lolpop-deploy received ${ending} and is stopping`);
    // Without wait, a local run still runs to the end: there is nothing to come back to.
    const timeoutMs = d.run.wait ? d.run.wait_timeout : undefined;

    const parameters = { ...deployment.parameters, ...d.run.parameters };
    // Secret parameters reach the child through its environment only: the spec names the
    // variables, and the run's record holds *** for them.
    const secretVariables = secretParameterVariables(Object.keys(d.secretParameters));
    const spec = launchSpec(deployment.package, deployment.entrypoint, this.ctx.workdir, parameters, this.config.use_prefect, secretVariables);
    const id = this.newRunDir();
    const dir = this.state.runDir(id);
    if (key) {
      const holder = await this.state.claimIdempotencyKey(name, key, id);
      if (holder) {
        rmSync(dir, { recursive: true, force: true });
        return this.existingRun(holder, key);
      }
    }
    const python = this.ctx.env.PYTHON || this.config.python || 'python3';
    const command = [python, path.join(dir, 'launcher.py'), path.join(dir, 'spec.json')];
    const record: RunRecord = {
      id,
      deployment: name,
      entrypoint: deployment.entrypoint,
      parameters: redactedParameters(parameters, Object.keys(d.secretParameters)),
      state: 'RUNNING',
      ...(key ? { idempotencyKey: key } : {}),
      python,
      command,
      started: new Date().toISOString(),
      owner: currentOwner(),
    };
    activeRuns.add(id);
    try {
      // Exclusive creates in the folder just made: never through a file planted there.
      writeFileSync(path.join(dir, 'launcher.py'), LAUNCHER_PY, { flag: 'wx' });
      writeFileSync(path.join(dir, 'spec.json'), `${JSON.stringify(spec, null, 2)}\n`, { flag: 'wx' });
      this.state.writeRun(record);
    } catch (error) {
      // Nothing ran: the key is free again.
      activeRuns.delete(id);
      if (key) this.state.releaseIdempotencyKey(name, key);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    try {
      const within = timeoutMs === undefined ? '' : ` (wait-timeout ${formatDuration(timeoutMs)})`;
      this.ctx.logger.info(`Run ${id} of ${name}${within}: ${command.join(' ')}`);
      const secretEnv = Object.fromEntries(Object.entries(secretVariables).map(([name, variable]) => [variable, d.secretParameters[name]!]));
      return await this.execute(record, timeoutMs, secretEnv, request.onStarted);
    } finally {
      activeRuns.delete(id);
    }
  }

  /** `secretEnv`: the secret parameters' variables, for the child's environment only. */
  private async execute(record: RunRecord, timeoutMs: number | undefined, secretEnv: Record<string, string>, onStarted: RunRequest['onStarted']): Promise<RunResult> {
    const { id, deployment: name } = record;
    const dir = this.state.runDir(id);
    const logFile = path.join(dir, 'log.txt');
    writeFileSync(logFile, '');
    let child: RunningChild;
    try {
      child = this.startRun(record, logFile, secretEnv, onStarted);
    } catch (error) {
      // Not started at all (an argument Node refuses): the record must not stay RUNNING.
      const why = error instanceof Error ? error.message : String(error);
      this.state.writeRun({ ...record, state: 'FAILED', ended: new Date().toISOString(), error: `cannot start Python '${record.python}': ${why}` });
      throw new CommandError(`Failed to run ${name}: cannot start Python '${record.python}' (${why}); install Python 3 or set PYTHON to its path`);
    }
    const guard = signalGuard(this.signals);
    guard.enter(id, {
      name: `run ${id} of ${name}`,
      stop: (signal) => {
        this.ctx.logger.warning(`Received ${signal}: stopping run ${id} (SIGTERM to its process group, SIGKILL after ${formatDuration(this.killGraceMs)})`);
        child.stop({ reason: 'signal', signal });
      },
      kill: (signal) => {
        this.ctx.logger.warning(`Received ${signal} again: killing run ${id} (SIGKILL to its process group)`);
        child.kill();
      },
    });
    try {
      return await this.recordEnd(record, child, timeoutMs);
    } finally {
      // Its end is recorded: the last run in flight raises a signal that stopped it again, to end this process.
      guard.leave(id, this.onSignalled);
    }
  }

  private startRun(record: RunRecord, logFile: string, secretEnv: Record<string, string>, onStarted: RunRequest['onStarted']): RunningChild {
    const { id, deployment: name, command } = record;
    return startChild({
      command: command[0]!,
      args: command.slice(1),
      cwd: this.ctx.workdir,
      env: { ...this.ctx.env, ...secretEnv, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', LOLPOP_DEPLOY_RUN_ID: id, LOLPOP_DEPLOY_DEPLOYMENT: name },
      logFile,
      redact: (text) => this.ctx.logger.redact(text),
      limits: this.limits,
      killGraceMs: this.killGraceMs,
      onSpawn: (pid, marker) => {
        record.pid = pid;
        record.marker = marker;
        this.state.writeRun(record);
        onStarted?.({ id, url: this.reportUrl(id), state: 'RUNNING', created: true });
      },
      onLine: (line) => this.ctx.logger.info(line.text),
    });
  }

  private async recordEnd(record: RunRecord, child: RunningChild, timeoutMs: number | undefined): Promise<RunResult> {
    const { id, deployment: name, python } = record;
    const dir = this.state.runDir(id);
    const logFile = path.join(dir, 'log.txt');
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            this.ctx.logger.warning(`Run ${id} reached the wait-timeout of ${formatDuration(timeoutMs)}: stopping it`);
            child.stop({ reason: 'timeout', afterMs: timeoutMs });
          }, timeoutMs);
    let outcome: ChildOutcome;
    try {
      outcome = await child.done;
    } finally {
      clearTimeout(timer);
    }

    const ended = new Date();
    const { state, error } = endState(outcome, python);
    Object.assign(record, {
      state,
      ended: ended.toISOString(),
      durationMs: ended.getTime() - new Date(record.started).getTime(),
      ...(outcome.exitCode === null ? {} : { exitCode: outcome.exitCode }),
      ...(outcome.signal ? { signal: outcome.signal } : {}),
      ...(error ? { error } : {}),
    });
    const tail = outcome.tail;
    if (outcome.spawnError) {
      tail.push({ stream: 'stderr', text: outcome.spawnError });
      appendFileSync(logFile, `${outcome.spawnError}\n`);
    }
    this.state.writeRun(record);
    // The artifact users upload: what the run printed may hold a secret.
    writeFileAtomic(path.join(dir, 'report.html'), this.ctx.logger.redact(renderRunReport(record, tail, { totalLines: outcome.totalLines + (outcome.spawnError ? 1 : 0) })));
    const url = this.reportUrl(id);
    const result: RunResult = { id, url, state: record.state, created: true };
    if (outcome.spawnError) {
      throw new CommandError(`Failed to run ${name}: cannot start Python '${python}' (${outcome.spawnError}); install Python 3 or set PYTHON to its path`);
    }
    const how = record.error ?? describeExit(outcome.exitCode, outcome.signal);
    if (record.state !== 'COMPLETED') {
      const last = tail.filter((l) => l.text.trim() !== '').pop()?.text.trim() ?? 'no output';
      this.ctx.logger.error(`Run ${id} ${record.state} (${how}): ${last}`);
    }
    this.ctx.logger.info(`Run ${id} ${record.state} (${how}); report: ${url}`);
    if (outcome.stoppedBy?.reason === 'signal') {
      // Recorded; execute() then ends this process as the signal asked, once no other run is in flight.
      throw new RunEndedError(`Run ${id} of ${name} CANCELLED: lolpop-deploy received ${outcome.stoppedBy.signal}; report: ${url}`, result);
    }
    return result;
  }

  /** A run an earlier invocation started with this key; a RUNNING one whose processes are gone is CRASHED. */
  private existingRun(earlier: RunRecord, key: string): RunResult {
    const run = this.settleStale(earlier);
    const url = this.reportUrl(run.id);
    this.ctx.logger.info(`Run ${run.id} already existed for idempotency key ${key} (${run.state}): ${url}`);
    return { id: run.id, url, state: run.state, created: false };
  }

  /** Reads a run's state until it ends or the timeout; a RUNNING record nobody runs any more is CRASHED. */
  async wait(request: WaitRequest): Promise<RunResult> {
    // Only a run started by another process can still be RUNNING here.
    const { value: record } = await poll(
      async () => this.settleStale(this.readRunOrThrow(request.run.id)),
      (read) => read.state !== 'RUNNING',
      { timeoutMs: request.timeoutMs, intervalMs: request.pollMs },
    );
    const result: RunResult = { ...request.run, state: record.state };
    if (record.state === 'COMPLETED') return result;
    if (record.state === 'RUNNING') {
      throw new RunTimeoutError(
        `Run ${record.id} of ${record.deployment} is still RUNNING after ${Math.round(request.timeoutMs / 1000)} s (wait-timeout): ${request.run.url}`,
        result,
        request.timeoutMs,
      );
    }
    const tail = lastLines(readTail(path.join(this.state.runDir(record.id), 'log.txt'), 64 * 1024), 5);
    const last = tail.split('\n').pop()?.trim();
    throw new RunEndedError(
      `Run ${record.id} of ${record.deployment} ended ${record.state} (${record.error ?? describeExit(record.exitCode, record.signal)}): ` +
        (last ? `${last}\nLast log lines:\n${tail.replace(/^/gm, '  ')}` : 'it printed nothing') +
        `\nReport: ${request.run.url}`,
      result,
    );
  }

  /**
   * A RUNNING record whose Python process and lolpop-deploy process are both gone (killed,
   * the machine restarted) would be waited on for ever: it is recorded CRASHED, with a report.
   */
  private settleStale(record: RunRecord): RunRecord {
    if (record.state !== 'RUNNING') return record;
    const why = staleReason(record);
    if (!why) return record;
    const ended = new Date();
    const crashed: RunRecord = { ...record, state: 'CRASHED', ended: ended.toISOString(), durationMs: ended.getTime() - new Date(record.started).getTime(), error: why };
    this.recordEndedElsewhere(crashed);
    this.ctx.logger.warning(`Run ${record.id} of ${record.deployment} was recorded RUNNING, but ${why}: recorded it CRASHED`);
    return crashed;
  }

  /**
   * The action's post step, after the step that ran it was killed (a signal to it stops the
   * run itself): the run's processes, found by the marker its record holds (ProcessGroup.adopt,
   * Linux), get SIGTERM then SIGKILL, and the run is recorded CANCELLED. One that ended, or
   * that runs on another host, is left as it is.
   */
  async cancel(request: CancelRequest): Promise<CancelResult> {
    const record = this.readRunOrThrow(request.run.id);
    const { id } = record;
    if (record.state !== 'RUNNING') return { state: record.state, detail: `run ${id} had already ended ${record.state}` };
    if (record.owner && record.owner.host !== hostname()) return { state: record.state, detail: `run ${id} runs on ${record.owner.host}, not here: left as it is` };
    // The record lies in the working directory: only a marker ProcessGroup makes is looked for, never another variable.
    if (record.marker === undefined || !/^LOLPOP_DEPLOY_PROCESS_[0-9a-f]{16}$/.test(record.marker)) {
      return { state: record.state, detail: `run ${id} records no process marker (${String(record.marker)}): its processes cannot be found; left as it is` };
    }
    const group = ProcessGroup.adopt(record.marker, this.killGraceMs);
    const found = group.count();
    await group.terminate();
    const ended = new Date();
    const how = found > 0 ? `stopped its ${found} process(es) (SIGTERM, then SIGKILL after ${formatDuration(this.killGraceMs)})` : 'none of its processes was left';
    const cancelled: RunRecord = {
      ...record,
      state: 'CANCELLED',
      ended: ended.toISOString(),
      durationMs: ended.getTime() - new Date(record.started).getTime(),
      error: `the job was cancelled after lolpop-deploy running it was killed: ${how}`,
    };
    this.recordEndedElsewhere(cancelled);
    return { state: 'CANCELLED', detail: `run ${id} CANCELLED: ${how}` };
  }

  /** The end of a run that the process running it could not record (it is gone): its record, and a report from its log file. */
  private recordEndedElsewhere(record: RunRecord): void {
    this.state.writeRun(record);
    const text = readTail(path.join(this.state.runDir(record.id), 'log.txt'), this.limits.tailBytes);
    const log: LogLine[] = text.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1).map((l) => ({ stream: 'stdout', text: l }));
    writeFileAtomic(path.join(this.state.runDir(record.id), 'report.html'), this.ctx.logger.redact(renderRunReport(record, log)));
  }

  /** Removes the deployment record; the runs' history stays. */
  async stop(request: StopRequest): Promise<StopResult> {
    const file = this.state.deploymentFile(request.resolved.name);
    if (!this.state.removeDeployment(request.resolved.name)) {
      return { stopped: false, detail: `deployment '${request.resolved.name}' is not recorded in ${this.state.root}; nothing to stop` };
    }
    return { stopped: true, detail: `removed deployment '${request.resolved.name}' (${file}); its runs stay in ${path.join(this.state.root, 'runs')}` };
  }

  /** A new run id with its folder created (exclusively: two concurrent runs never share one). */
  private newRunDir(): string {
    for (let attempt = 0; ; attempt++) {
      const id = newRunId();
      if (this.state.createRunDir(id)) return id;
      if (attempt > 20) throw new OrchestratorError(`Failed to run: cannot create a new run folder in ${path.join(this.state.root, 'runs')}`);
    }
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

/** What ended a run: its state and, unless it simply exited, why in a sentence. */
function endState(outcome: ChildOutcome, python: string): { state: LocalRunState; error?: string } {
  const exit = describeExit(outcome.exitCode, outcome.signal);
  if (outcome.spawnError) return { state: 'FAILED', error: `cannot start Python '${python}': ${outcome.spawnError}` };
  if (outcome.stoppedBy?.reason === 'timeout') {
    return { state: 'CANCELLED', error: `the wait-timeout of ${formatDuration(outcome.stoppedBy.afterMs)} was reached and lolpop-deploy stopped the run: ${exit}` };
  }
  if (outcome.stoppedBy?.reason === 'signal') {
    return { state: 'CANCELLED', error: `lolpop-deploy received ${outcome.stoppedBy.signal} and stopped the run: ${exit}` };
  }
  if (outcome.signal) return { state: 'CRASHED', error: `${exit}, a signal lolpop-deploy did not send (out of memory, or killed from outside)` };
  return { state: outcome.exitCode === 0 ? 'COMPLETED' : 'FAILED' };
}

/**
 * Why a RUNNING record is stale, or undefined while something may still be running it:
 * its Python process (checked to be this run's, on Linux), or the lolpop-deploy that
 * started it (the same pid and start time). A run recorded on another host is not judged.
 */
function staleReason(run: RunRecord): string | undefined {
  const owner = run.owner;
  if (!owner) return 'it records no process (an older lolpop-deploy wrote it) and cannot be followed';
  if (owner.host !== hostname()) return undefined;
  if (run.pid !== undefined && pidExists(run.pid) && isRunProcess(run.pid, run.id)) return undefined;
  const ownerAlive =
    owner.pid === process.pid
      ? activeRuns.has(run.id)
      : pidExists(owner.pid) && (owner.startTicks === undefined || startTicks(owner.pid) === undefined || startTicks(owner.pid) === owner.startTicks);
  if (ownerAlive) return undefined;
  return `its processes are gone (Python pid ${run.pid ?? 'never started'}, lolpop-deploy pid ${owner.pid}): lolpop-deploy was killed before it could record the end`;
}

/** Linux: whether `pid` is this run's launcher and not a process that reused the pid. */
function isRunProcess(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id);
  } catch {
    return true;
  }
}

