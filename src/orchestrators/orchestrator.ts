import type { z } from 'zod';
import type { CiContext } from '../ci-context.js';
import type { ResolvedDeployment } from '../deployment.js';
import type { DeploymentType, KwargsSchemas, PackageKwargs, StepKwargs } from '../config/schema.js';
import type { Exec } from '../exec.js';
import type { StepName } from '../steps.js';
import type { Logger } from '../logger.js';
import type { RunResult, RunState } from '../run-state.js';

/** What `package` produced: the files it wrote and, when it built one, the image. */
export interface PackageResult {
  /** Files written, relative to the working directory. */
  files: string[];
  /** What writing did to each of `files`, so a user hears about every file that appears. */
  changes?: Record<string, FileChange>;
  /** The user's own files the package used as they are (a Dockerfile without our header). */
  kept?: string[];
  /** The flow entrypoint inside the package, `path/file.py:function`. */
  entrypoint: string;
  /** Image reference (`registry/repo:tag`) when an image was built. */
  image?: string;
  /** Registry manifest digest (`sha256:…`) when the image was pushed. */
  digest?: string;
}

export type FileChange = 'new' | 'updated' | 'unchanged';

export interface DeployResult {
  id: string;
  /** The deployment's name as the orchestrator knows it (Prefect: `flow/deployment`). */
  name: string;
  url?: string;
}

// The run vocabulary lives in src/run-state.ts, below everything (src/errors.ts carries a
// RunResult); it is part of this interface, so an orchestrator imports it from here.
export { asRunState, FAILURE_STATES, isFailure, isTerminal, RUN_STATES, type RunResult, type RunState } from '../run-state.js';

export interface StopResult {
  /** False when there was nothing left to stop (already gone). */
  stopped: boolean;
  detail: string;
}

/*
 * Every request carries `resolved`: the deployment worked out once before any step ran
 * (src/deployment.ts): names, entrypoint, image, idempotency key, durations in ms, each
 * section's kwargs as the orchestrator's own schemas parsed them (`K`: its kwargs,
 * PrefectOrchestrator: PrefectKwargs; the common ones of config/schema.ts for an
 * orchestrator without `kwargs`), and its plugin's target (`T`). Read only that. The
 * other fields (deploymentName, type, the kwargs sections) are 1.0's copies of parts of
 * it, still filled (src/step-requests.ts) so orchestrator modules written for 1.0 keep
 * working, and deprecated: each names what replaces it.
 */
interface StepRequest<K extends StepKwargs, T> {
  resolved: ResolvedDeployment<K, T>;
  /** @deprecated since 1.1: read `resolved.name`. */
  deploymentName: string;
}
export interface PackageRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** @deprecated since 1.1: read `resolved.package`. */
  kwargs: K['package'];
  /** @deprecated since 1.1: read `resolved.deploy`. */
  deployKwargs: K['deploy'];
}
export interface DeployRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** @deprecated since 1.1: read `resolved.type`. */
  type: DeploymentType;
  /** @deprecated since 1.1: read `resolved.deploy`. */
  kwargs: K['deploy'];
  /** What package produced in this same invocation, if it ran. */
  packaged?: PackageResult;
  /** @deprecated since 1.1: read `resolved.package`. */
  packageKwargs: K['package'];
}
export interface RunRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** @deprecated since 1.1: read `resolved.type`. */
  type: DeploymentType;
  /** @deprecated since 1.1: read `resolved.run`. */
  kwargs: K['run'];
  /** What deploy returned in this same invocation, if it ran. */
  deployment?: DeployResult;
  /** @deprecated since 1.1: read `resolved.package`. */
  packageKwargs: K['package'];
  /** @deprecated since 1.1: read `resolved.deploy`. */
  deployKwargs: K['deploy'];
}
export interface WaitRequest {
  run: RunResult;
  timeoutMs: number;
  pollMs: number;
}
/** A run this tool started, to cancel: the job running it was cancelled (the action's post step, a signal). */
export interface CancelRequest {
  run: RunResult;
  /** The whole of it, the wait for the run to end included; 0: ask, do not wait. */
  timeoutMs: number;
}

/** What cancel did: the run's state once asked (and waited for), and one line saying it. */
export interface CancelResult {
  state: RunState;
  detail: string;
}

export interface StopRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** @deprecated since 1.1: read `resolved.type`. */
  type: DeploymentType;
  /** @deprecated since 1.1: read `resolved.stop`. */
  kwargs: K['stop'];
  /** @deprecated since 1.1: read `resolved.package`. */
  packageKwargs: K['package'];
  /** @deprecated since 1.1: read `resolved.deploy`. */
  deployKwargs: K['deploy'];
}

/** What `plan` is asked about: everything package → deploy → run would use. */
export interface PlanRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** The steps to plan, in order (some of package, deploy, run). */
  steps: StepName[];
  /** @deprecated since 1.1: read `resolved.type`. */
  type: DeploymentType;
  /** @deprecated since 1.1: read `resolved.package`. */
  packageKwargs: K['package'];
  /** @deprecated since 1.1: read `resolved.deploy`. */
  deployKwargs: K['deploy'];
  /** @deprecated since 1.1: read `resolved.run`. */
  runKwargs: K['run'];
}

/** A request plan shows instead of sending; the body as it would be sent (ids not known yet in <…>). */
export interface PlannedRequest {
  method: string;
  url: string;
  body?: unknown;
}

/** What package → deploy → run would do, found without changing anything. */
export interface PlanResult {
  files: Array<{ path: string; change: FileChange }>;
  /** The user's own files package would use as they are. */
  kept: string[];
  /** The image package would build (and push), when it would build one. */
  image?: string;
  /** One line per thing that would happen, in order. */
  actions: string[];
  requests: PlannedRequest[];
}

/**
 * lolpop's BaseOrchestrator (its orchestrator interface docs) as the deploy tool needs it. Every method
 * throws a UserError with a one-line message a user can act on. `K`: the step kwargs it
 * reads, its plugin's `kwargs` (the common ones when it has none).
 */
export interface Orchestrator<K extends StepKwargs = StepKwargs, T = unknown> {
  /**
   * Optional: fail before any step runs on what these steps will need (a server URL, …),
   * so that nothing is built when a later step could not run anyway. `steps`: those that
   * will run (with plan, only plan: the steps it describes do not run).
   */
  prepare?(steps: readonly StepName[]): void;
  /** Write the entrypoint and Dockerfile; build (and push) the image when asked. */
  package(request: PackageRequest<K, T>): Promise<PackageResult>;
  /** Create or update the deployment; idempotent. */
  deploy(request: DeployRequest<K, T>): Promise<DeployResult>;
  /** Start a run of the deployment and return its id and URL without waiting. */
  run(request: RunRequest<K, T>): Promise<RunResult>;
  /** Poll the run to a terminal state or the timeout; returns the final state. */
  wait(request: WaitRequest): Promise<RunResult>;
  /**
   * Optional: cancel one run that `run` started (its id and URL are all that is known;
   * a new process may ask). Idempotent: a run already ended is said so, not an error.
   */
  cancel?(request: CancelRequest): Promise<CancelResult>;
  /** Undo what deploy created. */
  stop(request: StopRequest<K, T>): Promise<StopResult>;
  /**
   * Optional: what package → deploy → run would write, build and send, without
   * writing, building or sending anything that changes state (reading a server is fine;
   * without one, an offline plan).
   */
  plan?(request: PlanRequest<K, T>): Promise<PlanResult>;
}

/** What every orchestrator gets from its host, so none reaches for globals. */
export interface OrchestratorContext {
  logger: Logger;
  exec: Exec;
  fetch: typeof globalThis.fetch;
  env: NodeJS.ProcessEnv;
  ci: CiContext;
  /** Absolute directory the config's relative paths resolve against. */
  workdir: string;
  /** Absolute path of the config file. */
  configFile: string;
  /** Registry credentials from the action inputs; docker/login-action's config is used otherwise. */
  registry?: { username: string; password: string };
  /**
   * What the workflows of one step share (one map per step): an orchestrator keeps
   * what it learned of a server there, under keys of its own, so fifty workflows do
   * not ask the same server the same question fifty times.
   */
  shared?: Map<string, unknown>;
}

/** A registry entry: a name users write in `decorator.orchestrator`, and a factory. */
export interface OrchestratorPlugin<K extends StepKwargs = StepKwargs, T = unknown> {
  name: string;
  description: string;
  /**
   * What one run of a deployment is called on this orchestrator, as its own UI calls it
   * ('flow run', 'DAG run'): the reports use it. Unset: 'run'.
   */
  runNoun?: string;
  /** Validates `orchestrator.config` for this orchestrator. */
  configSchema: z.ZodType;
  /**
   * Its own step kwargs, per section (`deploy`, …): zod object schemas that extend the
   * common ones of config/schema.ts and stay strict. The config's deployment block is
   * validated against them, and the published JSON Schema uses them when
   * `decorator.orchestrator` names this orchestrator. A section left out is the common one.
   */
  kwargs?: KwargsSchemas<K>;
  /**
   * Optional: where this orchestrator will run a deployment (PrefectOrchestrator: a work
   * pool, a static Docker host or Kubernetes), decided once from the resolved deployment
   * and handed to every step as `resolved.target`.
   */
  target?(deployment: ResolvedDeployment<K, undefined>): T;
  /**
   * Optional: package kwargs its parsed `orchestrator.config` supplies where the deployment
   * leaves them unset (lolpop's PrefectOrchestrator reads the flow's @flow arguments from
   * config.flow_kwargs).
   */
  packageDefaults?(config: unknown): Partial<PackageKwargs>;
  create(config: unknown, context: OrchestratorContext): Orchestrator<K, T>;
}

/**
 * A built-in orchestrator as the registry keeps it: what loading a config needs (name,
 * description, config and kwargs schemas) and create(). The implementations are imported
 * statically: one dynamic import() per orchestrator (its own chunk in the bundle) was
 * measured at 2–3 ms more to the action's first request under Node 24 (loading an ESM
 * chunk costs more than parsing the other orchestrators' minified code); README, Speed.
 * create() is async so that one may become lazy again without touching the callers.
 */
export type BuiltInOrchestrator = Omit<OrchestratorPlugin, 'create'> & {
  /** Its user guide, from the repository root (docs/<name>.md): the README's orchestrators table links it. */
  docs: string;
  create(config: unknown, context: OrchestratorContext): Promise<ReturnType<OrchestratorPlugin['create']>>;
};
