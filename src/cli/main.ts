import { ConsoleLogger, type Logger } from '../logger.js';
import { runAndFinish } from '../run-workflows.js';
import { terminalText } from '../terminal-text.js';
import { CliShell, type CliWorld } from './shell.js';
import { parseCommandLine } from './program.js';

/** The CLI's connection to the world; main() touches nothing else. */
export interface CliIo extends CliWorld {
  /** Defaults to a ConsoleLogger on stderr. */
  logger?: Logger;
  version?: string;
}

/**
 * `lolpop-deploy <command> …`: returns the exit code (0 success, 1 a config error
 * or a failed step or run, 2 a usage error) instead of exiting, so tests call it.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, io, io.version);
  if (parsed.kind === 'exit') return parsed.code;
  const logger = io.logger ?? new ConsoleLogger(parsed.invocation.verbose);
  return runAndFinish(new CliShell(parsed.invocation, printing(io, logger), logger));
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
