import { findConfigFiles } from '../config/find.js';
import { ConfigError, describeError, UserError } from '../errors.js';
import { ConsoleLogger, type Logger } from '../logger.js';
import { terminalText } from '../terminal-text.js';
import { parseCommandLine, type CliInvocation } from './program.js';
import { formatJsonResult, formatSummary } from './output.js';
import { runInvocation, runInvocations, type CliEnvironment } from './run.js';

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
  io = printing(io, logger);
  try {
    const files = findConfigFiles([invocation.configFile], io.cwd, '-c');
    if (files.length > 1) {
      if (invocation.command !== 'up' && invocation.command !== 'plan') throw new ConfigError(`-c names ${files.length} files: only up and plan take several`);
      return await runSeveral(invocation, io, logger, files);
    }
    const { result } = await runInvocation(invocation, { logger, env: io.env, cwd: io.cwd, exec: io.exec, fetch: io.fetch });
    const failure = result.error ? describeError(result.error) : undefined;
    if (invocation.json) io.stdout(formatJsonResult(result, failure));
    else io.stdout(formatSummary(result));
    if (failure) {
      io.stderr(`error: ${failure}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    // A config error (or a bug): nothing was built or deployed.
    const message = describeError(error);
    if (invocation.json) io.stdout(`${JSON.stringify({ error: message }, null, 2)}\n`);
    io.stderr(`error: ${message}\n`);
    if (!(error instanceof UserError)) logger.debug(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

/** Several workflows: a summary each, under its name; exit 1 when any failed. */
async function runSeveral(invocation: CliInvocation, io: CliIo, logger: Logger, files: string[]): Promise<number> {
  const outcomes = await runInvocations(invocation, { logger, env: io.env, cwd: io.cwd, exec: io.exec, fetch: io.fetch }, files);
  if (invocation.json) {
    const json = outcomes.map((o) => ({ config: o.file, name: o.name, status: o.status, ...(o.result ?? {}), error: o.error ? describeError(o.error) : undefined }));
    io.stdout(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    for (const o of outcomes) {
      io.stdout(`== ${o.name ?? o.file}: ${o.status}\n`);
      if (o.result) io.stdout(formatSummary(o.result));
    }
  }
  const failed = outcomes.filter((o) => o.status === 'failed');
  for (const o of failed) io.stderr(`error: ${o.name ?? o.file}: ${describeError(o.error)}\n`);
  if (failed.length === 0) return 0;
  const notStarted = outcomes.filter((o) => o.status === 'not-started').length;
  io.stderr(`error: ${failed.length} of ${outcomes.length} workflows failed${notStarted ? `; ${notStarted} not started (--fail-fast)` : ''}\n`);
  return 1;
}

/**
 * Everything main prints passes the logger's redaction — every secret any part
 * registered (${VAR} values, API keys, URL passwords, tokens), in every encoding — and
 * loses terminal control sequences (a server's text is data, not terminal commands).
 */
function printing(io: CliIo, logger: Logger): CliIo {
  const clean = (text: string) => terminalText(logger.redact(text));
  return { ...io, stdout: (text) => io.stdout(clean(text)), stderr: (text) => io.stderr(clean(text)) };
}
