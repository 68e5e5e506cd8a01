import type { RunResult } from './run-state.js';

/**
 * Errors a user can act on. Their message is shown as is, in one line; anything
 * else that escapes is a bug and is shown with its stack at debug level.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** Where in a file a problem is: the action turns these into annotations on the diff. */
export interface SourceLocation {
  /** Absolute path of the file. */
  file: string;
  line: number;
  col: number;
  /** The message for this place (a config error may list several). */
  message: string;
}

/** A problem in the config file or the inputs; nothing has been built or deployed. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  /** Set by the config loader for each line of the message that names file:line:col. */
  locations: SourceLocation[] = [];
}

/** The orchestrator's server answered with an error, or could not be reached. */
export class OrchestratorError extends UserError {
  override name = 'OrchestratorError';
}

/**
 * A flow run ended in a state other than COMPLETED, or did not end in time, or could not
 * be started or followed. `result`, when there is one, is the run as last seen, so outputs
 * and the report show its final state rather than the one at creation.
 */
export class RunFailedError extends UserError {
  override name = 'RunFailedError';
  constructor(
    message: string,
    readonly result?: RunResult,
  ) {
    super(message);
  }
}

/** The run ended, in a state other than COMPLETED (`result.state` says which). */
export class RunEndedError extends RunFailedError {
  override name = 'RunEndedError';
  declare readonly result: RunResult;
  constructor(message: string, result: RunResult) {
    super(message, result);
  }
}

/** The wait-timeout passed before the run ended; `result.state` is the last state seen. */
export class RunTimeoutError extends RunFailedError {
  override name = 'RunTimeoutError';
  declare readonly result: RunResult;
  constructor(
    message: string,
    result: RunResult,
    readonly timeoutMs: number,
  ) {
    super(message, result);
  }
}

/** A child process (docker, python, kubectl) failed. */
export class CommandError extends UserError {
  override name = 'CommandError';
}

/**
 * What a user sees for an error: a UserError's message as written (a config
 * error may list several keys, one per line); for anything else, its first line.
 */
export function describeError(error: unknown): string {
  if (error instanceof UserError) return error.message;
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return String(error);
}
