import * as core from '@actions/core';
import { redact, type Logger } from '../logger.js';

/** The action's Logger: GitHub's log groups, annotations and masking. */
export class CoreLogger implements Logger {
  private readonly secrets = new Set<string>();

  debug(message: string): void {
    core.debug(message);
  }
  info(message: string): void {
    core.info(message);
  }
  warning(message: string): void {
    core.warning(message);
  }
  error(message: string): void {
    core.error(message);
  }
  group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return core.group(name, fn);
  }
  addSecret(value: string): void {
    // setSecret masks only what is printed after it: callers register secrets first.
    if (!value || this.secrets.has(value)) return;
    core.setSecret(value);
    this.secrets.add(value);
  }

  /**
   * The runner masks its log, not what we send elsewhere: the PR comment (and the
   * summary, to be sure) go through this before they leave.
   */
  redact(text: string): string {
    return redact(text, this.secrets);
  }
}
