import type { z } from 'zod';
import type { CiContext } from '../ci-context.js';
import type { ResolvedDeployment } from '../deployment.js';
import type { DeploymentType, KwargsSchemas, StepKwargs } from '../config/schema.js';
import type { Exec } from '../exec.js';
import type { StepName } from '../steps.js';
import type { Logger } from '../logger.js';

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

/**
 * Where a run is, in one vocabulary for every orchestrator: Prefect's state types, which
 * lolpop users know. Each orchestrator maps its own states onto these in its folder
 * (prefect/states.ts, airflow/states.ts, local/state.ts).
 */
export const RUN_STATES = [
  /** Created, waiting for its time or for something to pick it up (Airflow: queued). */
  'SCHEDULED',
  /** Picked up, its infrastructure starting. */
  'PENDING',
  'RUNNING',
  'PAUSED',
  /** Asked to cancel; its worker has not ended it yet. */
  'CANCELLING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  /** Its process died from outside (killed, out of memory), not by the flow's own error. */
  'CRASHED',
  /** The orchestrator reported a state this tool does not know. */
  'UNKNOWN',
] as const;
export type RunState = (typeof RUN_STATES)[number];

/** Terminal states that are not success: the one place that decides what a failed run is. */
export const FAILURE_STATES: readonly RunState[] = ['FAILED', 'CRASHED', 'CANCELLED'];

/** Whether a run in this state has ended badly. */
export function isFailure(state: RunState): boolean {
  return FAILURE_STATES.includes(state);
}

/** Whether a run in this state has ended, well or badly. */
export function isTerminal(state: RunState): boolean {
  return state === 'COMPLETED' || isFailure(state);
}

/** A state as some orchestrator's string: itself when it is one of RUN_STATES, else UNKNOWN. */
export function asRunState(state: string | undefined | null): RunState {
  return (RUN_STATES as readonly string[]).includes(state ?? '') ? (state as RunState) : 'UNKNOWN';
}

export interface RunResult {
  id: string;
  url: string;
  /** The state at the time of the answer, in the shared vocabulary. */
  state: RunState;
  /** Whether this call created the run (false: an earlier one with the same idempotency key). */
  created: boolean;
}

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
 * orchestrator without `kwargs`), and its plugin's target (`T`). The built-in
 * orchestrators read only that. The other fields (deploymentName, type, the kwargs
 * sections) are copies of parts of it, kept because orchestrator modules written for
 * 1.0 read them.
 */
interface StepRequest<K extends StepKwargs, T> {
  resolved: ResolvedDeployment<K, T>;
  /** resolved.name. */
  deploymentName: string;
}
export interface PackageRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** resolved.package. */
  kwargs: K['package'];
  /** resolved.deploy. */
  deployKwargs: K['deploy'];
}
export interface DeployRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** resolved.type. */
  type: DeploymentType;
  /** resolved.deploy. */
  kwargs: K['deploy'];
  /** What package produced in this same invocation, if it ran. */
  packaged?: PackageResult;
  /** resolved.package. */
  packageKwargs: K['package'];
}
export interface RunRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** resolved.type. */
  type: DeploymentType;
  /** resolved.run. */
  kwargs: K['run'];
  /** What deploy returned in this same invocation, if it ran. */
  deployment?: DeployResult;
  /** resolved.package. */
  packageKwargs: K['package'];
  /** resolved.deploy. */
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
  /** resolved.type. */
  type: DeploymentType;
  /** resolved.stop. */
  kwargs: K['stop'];
  /** resolved.package. */
  packageKwargs: K['package'];
  /** resolved.deploy. */
  deployKwargs: K['deploy'];
}

/** What `plan` is asked about: everything package → deploy → run would use. */
export interface PlanRequest<K extends StepKwargs = StepKwargs, T = unknown> extends StepRequest<K, T> {
  /** The steps to plan, in order (some of package, deploy, run). */
  steps: StepName[];
  /** resolved.type. */
  type: DeploymentType;
  /** resolved.package, resolved.deploy, resolved.run. */
  packageKwargs: K['package'];
  deployKwargs: K['deploy'];
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
   * so that nothing is built when a later step could not run anyway.
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
  create(config: unknown, context: OrchestratorContext): Orchestrator<K, T>;
}
