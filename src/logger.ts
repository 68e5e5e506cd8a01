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
  /** Registers a value that must never be printed (core.setSecret in the action). */
  addSecret(value: string): void;
}

/** Replaces every registered secret in `text` with `***`, longest first. */
export function redact(text: string, secrets: Iterable<string>): string {
  const sorted = [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of sorted) out = out.split(secret).join('***');
  return out;
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
}

/** Keeps every line, already redacted, so tests can assert on what a user would see. */
export class MemoryLogger implements Logger {
  /** What a user would see: registered secrets replaced by ***. */
  readonly lines: string[] = [];
  /** What the code logged, unredacted: tests that no secret is logged assert on this. */
  readonly rawLines: string[] = [];
  readonly secrets = new Set<string>();
  private push(level: string, message: string): void {
    this.rawLines.push(`${level}: ${message}`);
    this.lines.push(`${level}: ${redact(message, this.secrets)}`);
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
    if (value) this.secrets.add(value);
  }
}

/** The CLI's logger: plain lines on stderr (stdout is kept for --json), secrets redacted. */
export class ConsoleLogger implements Logger {
  private readonly secrets = new Set<string>();
  constructor(private readonly verbose = false) {}
  private write(prefix: string, message: string): void {
    process.stderr.write(`${prefix}${redact(message, this.secrets)}\n`);
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
    if (value) this.secrets.add(value);
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
}
