import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { SecretSet } from '../redaction.js';

// A line the runner would take as a workflow command: `::name…::` after leading
// whitespace, or the legacy `##[name]` anywhere in it. The runner splits lines at \r too.
const COMMAND_LIKE = /(?:^|[\r\n])\s*::|##\[/;

/** The action's Logger: GitHub's log groups, annotations and masking. */
export class CoreLogger implements Logger {
  private readonly secrets = new SecretSet();

  debug(message: string): void {
    core.debug(this.redact(message));
  }
  /**
   * Messages carry text from servers, run output and event payloads: a line of it
   * that looks like a workflow command is printed between `::stop-commands::` and its
   * random resume token, so the runner shows it and does not obey it. (debug, warning,
   * error and group put the message inside their own command, escaped by @actions/core.)
   */
  info(message: string): void {
    const text = this.redact(message);
    if (!COMMAND_LIKE.test(text)) {
      core.info(text);
      return;
    }
    const token = randomUUID();
    // One write: the lines of other workflows cannot come between the stop and the resume.
    core.info(`::stop-commands::${token}\n${text}\n::${token}::`);
  }
  warning(message: string): void {
    core.warning(this.redact(message));
  }
  error(message: string): void {
    core.error(this.redact(message));
  }
  group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return core.group(this.redact(name), fn);
  }
  /**
   * Every form of the secret (JSON, URL, shell, Python; each line of a multi-line one)
   * is registered with the runner, which masks only text it was given exactly.
   * setSecret masks only what is printed after it: callers register secrets first.
   */
  addSecret(value: string): void {
    for (const form of this.secrets.add(value)) core.setSecret(form);
  }

  /** The one rule (src/redaction.ts), for the log and for what leaves by another way: outputs, summary, comment. */
  redact(text: string): string {
    return this.secrets.redact(text);
  }
}
