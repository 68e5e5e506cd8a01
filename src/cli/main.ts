import { describeError, UserError } from '../errors.js';
import { ConsoleLogger, redact, type Logger } from '../logger.js';
import { parseCommandLine } from './program.js';
import { formatJsonResult, formatSummary } from './output.js';
import { runInvocation, type CliEnvironment } from './run.js';

/** The CLI's connection to the world; main() touches nothing else. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Defaults to a ConsoleLogger on stderr. */
  logger?: Logger;
  exec?: CliEnvironment['exec'];
  fetch?: CliEnvironment['fetch'];
  version?: string;
}

/**
 * `lolpop-deploy <command> …`: returns the exit code (0 success, 1 a config error
 * or a failed step or run, 2 a usage error) instead of exiting, so tests call it.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, io, io.version);
  if (parsed.kind === 'exit') return parsed.code;
  const invocation = parsed.invocation;
  const logger = io.logger ?? new ConsoleLogger(invocation.verbose);
  let secrets: string[] = [];
  try {
    const { config, result } = await runInvocation(invocation, { logger, env: io.env, cwd: io.cwd, exec: io.exec, fetch: io.fetch });
    secrets = config.secrets;
    const failure = result.error ? describeError(result.error) : undefined;
    if (invocation.json) io.stdout(redact(formatJsonResult(result, failure), secrets));
    else io.stdout(redact(formatSummary(result), secrets));
    if (failure) {
      io.stderr(`error: ${redact(failure, secrets)}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    // A config error (or a bug): nothing was built or deployed.
    const message = redact(describeError(error), secrets);
    if (invocation.json) io.stdout(`${JSON.stringify({ error: message }, null, 2)}\n`);
    io.stderr(`error: ${message}\n`);
    if (!(error instanceof UserError)) logger.debug(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}
