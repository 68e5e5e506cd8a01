import { SecretSet } from './redaction.js';
import { terminalText } from './terminal-text.js';

/**
 * The core logs through this interface and never imports @actions/core, so the
 * same code serves the action (core-backed logger), the CLI (console) and tests.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Runs `fn` inside a collapsible group (a `core.group` in the action). */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Registers a value that must never be printed, in any of its encodings (src/redaction.ts). */
  addSecret(value: string): void;
  /** `text` with every registered secret hidden: for what leaves by another way than the log. */
  redact(text: string): string;
}

/** Swallows everything; for tests that do not look at logs. */
export class NullLogger implements Logger {
  debug(): void {}
  info(): void {}
  warning(): void {}
  error(): void {}
  async group<T>(_name: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  addSecret(): void {}
  redact(text: string): string {
    return text;
  }
}

/** Keeps every line, already redacted, so tests can assert on what a user would see. */
export class MemoryLogger implements Logger {
  /** What a user would see: registered secrets replaced by ***. */
  readonly lines: string[] = [];
  /** What the code logged, unredacted: tests that no secret is logged assert on this. */
  readonly rawLines: string[] = [];
  readonly secrets = new SecretSet();
  private push(level: string, message: string): void {
    this.rawLines.push(`${level}: ${message}`);
    this.lines.push(`${level}: ${this.secrets.redact(message)}`);
  }
  debug(m: string): void {
    this.push('debug', m);
  }
  info(m: string): void {
    this.push('info', m);
  }
  warning(m: string): void {
    this.push('warning', m);
  }
  error(m: string): void {
    this.push('error', m);
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.push('group', name);
    return fn();
  }
  addSecret(value: string): void {
    this.secrets.add(value);
  }
  redact(text: string): string {
    return this.secrets.redact(text);
  }
}

/**
 * The CLI's logger: plain lines on stderr (stdout is kept for --json), secrets redacted
 * and terminal control sequences removed.
 */
export class ConsoleLogger implements Logger {
  private readonly secrets = new SecretSet();
  constructor(private readonly verbose = false) {}
  private write(prefix: string, message: string): void {
    process.stderr.write(`${prefix}${terminalText(this.redact(message))}\n`);
  }
  debug(m: string): void {
    if (this.verbose) this.write('debug: ', m);
  }
  info(m: string): void {
    this.write('', m);
  }
  warning(m: string): void {
    this.write('warning: ', m);
  }
  error(m: string): void {
    this.write('error: ', m);
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.write('▸ ', name);
    return fn();
  }
  addSecret(value: string): void {
    this.secrets.add(value);
  }
  redact(text: string): string {
    return this.secrets.redact(text);
  }
}

/**
 * Several workflows log at once: every line says whose it is, and steps are marked
 * with a line instead of a group (groups cannot interleave).
 */
export class PrefixedLogger implements Logger {
  constructor(
    private readonly inner: Logger,
    private readonly prefix: string,
  ) {}
  debug(m: string): void {
    this.inner.debug(`[${this.prefix}] ${m}`);
  }
  info(m: string): void {
    this.inner.info(`[${this.prefix}] ${m}`);
  }
  warning(m: string): void {
    this.inner.warning(`[${this.prefix}] ${m}`);
  }
  error(m: string): void {
    this.inner.error(`[${this.prefix}] ${m}`);
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.inner.info(`[${this.prefix}] ▸ ${name}`);
    return fn();
  }
  addSecret(value: string): void {
    this.inner.addSecret(value);
  }
  redact(text: string): string {
    return this.inner.redact(text);
  }
}
