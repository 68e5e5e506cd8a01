import * as actionsExec from '@actions/exec';
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { ProcessGroup } from './process/group.js';
import { paceToOwnOutput } from './process/pace.js';
import { raiseAgain, signalGuard } from './process/signals.js';

export interface ExecOptions {
  cwd?: string;
  /** The child's whole environment (unset values are dropped); default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Written to the process's standard input (e.g. a registry password for `--password-stdin`). */
  input?: string;
  /** Called with each line of output as it arrives, so long steps show progress. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Terminates the process (and what it started) after this long: a network command that may hang (a git fetch). Linux and macOS only. */
  timeoutMs?: number;
}

export interface ExecResult {
  exitCode: number;
  /** The output, or its last OUTPUT_KEPT_CHARS characters when there was more (a long build). */
  stdout: string;
  stderr: string;
}

/**
 * How much of each stream a result keeps: all of what is parsed (a digest, a container id,
 * a few lines of JSON), and the tail of a long output, whose lines went to `onLine`.
 */
export const OUTPUT_KEPT_CHARS = 1024 * 1024;

/**
 * Every child process goes through this, so argv builders stay pure and tests
 * can substitute an object literal. It never throws on a non-zero exit: callers
 * turn the exit code and last stderr lines into a message a user can act on.
 */
export interface Exec {
  run(command: string, args: string[], options?: ExecOptions): Promise<ExecResult>;
}

/**
 * Splits bytes into lines in linear time and bounded memory: each chunk is searched
 * once for newlines, and a line keeps at most `maxBytes`; the rest of it is counted.
 */
export class LineSplitter {
  /** A line longer than this is cut for `onLine` (the result's stdout/stderr keep it whole). */
  static readonly MAX_LINE_BYTES = 64 * 1024;

  private parts: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly emit: (line: string) => void,
  ) {}

  push(data: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = data.indexOf(10, start);
      if (newline === -1) {
        this.keep(data.subarray(start));
        return;
      }
      this.keep(data.subarray(start, newline));
      this.end(true);
      start = newline + 1;
    }
  }

  flush(): void {
    if (this.kept > 0 || this.dropped > 0) this.end(false);
  }

  private keep(piece: Buffer): void {
    const room = this.maxBytes - this.kept;
    if (piece.length > room) {
      this.dropped += piece.length - Math.max(room, 0);
      piece = piece.subarray(0, Math.max(room, 0));
    }
    if (piece.length > 0) {
      // A copy: the chunk it came from is not kept alive for a few bytes.
      this.parts.push(Buffer.from(piece));
      this.kept += piece.length;
    }
  }

  private end(newline: boolean): void {
    let text = Buffer.concat(this.parts, this.kept).toString('utf8');
    // `\r\n` ends a line as `\n` does.
    if (newline && this.dropped === 0 && text.endsWith('\r')) text = text.slice(0, -1);
    if (this.dropped > 0) text += ` … [${this.dropped} more bytes of this line not shown]`;
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    this.emit(text);
  }
}

/**
 * The real Exec (silent: output is passed to `onLine`, not echoed). On Linux and macOS it
 * spawns the program itself: @actions/exec re-scans its whole pending line on every chunk,
 * so one 50 MB line without a newline took over 30 s there; here each chunk is read once.
 * Windows keeps @actions/exec, which knows how to start .cmd/.bat programs.
 */
export class ProcessExec implements Exec {
  async run(command: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const onLine = options.onLine;
    const out = new LineSplitter(LineSplitter.MAX_LINE_BYTES, (l) => onLine?.(l, 'stdout'));
    const err = new LineSplitter(LineSplitter.MAX_LINE_BYTES, (l) => onLine?.(l, 'stderr'));
    if (process.platform !== 'win32') return spawnProcess(command, args, options, out, err);
    try {
      const result = await actionsExec.getExecOutput(command, args, {
        cwd: options.cwd,
        env: options.env && definedValues(options.env),
        input: options.input === undefined ? undefined : Buffer.from(options.input),
        silent: true,
        ignoreReturnCode: true,
        listeners: { stdout: (d) => out.push(d), stderr: (d) => err.push(d) },
      });
      out.flush();
      err.flush();
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    } catch (error) {
      // @actions/exec throws when the program is not on PATH.
      const message = error instanceof Error ? error.message : String(error);
      return { exitCode: 127, stdout: '', stderr: message };
    }
  }
}

/**
 * What @actions/exec does, minus its line buffer: no shell; the exit code (128 + n for a
 * signal, as a shell reports it); 127 and a message when the program or the cwd is missing.
 * The child and what it starts live by ProcessGroup's lifecycle: a SIGTERM/SIGINT to this
 * process terminates them (through the process-wide SignalGuard), and what the child left
 * running when it exited is terminated too; only then is the result given.
 */
function spawnProcess(command: string, args: string[], options: ExecOptions, out: LineSplitter, err: LineSplitter): Promise<ExecResult> {
  return new Promise((resolve) => {
    if (options.cwd !== undefined && !existsSync(options.cwd)) {
      resolve({ exitCode: 127, stdout: '', stderr: `The cwd: ${options.cwd} does not exist!` });
      return;
    }
    // As @actions/exec: a bare name is looked up in this process's PATH, not the child's.
    const program = command.includes('/') ? command : which(command);
    if (program === undefined) {
      resolve({ exitCode: 127, stdout: '', stderr: `Unable to locate executable file: ${command}. Please verify either the file path exists or the file can be found within a directory specified by the PATH environment variable.` });
      return;
    }
    const stdout = new TextTail(OUTPUT_KEPT_CHARS);
    const stderr = new TextTail(OUTPUT_KEPT_CHARS);
    let settled = false;
    const group = new ProcessGroup();
    const child = spawn(program, args, {
      cwd: options.cwd,
      ...group.spawnOptions(options.env ?? process.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    group.started(child.pid);
    const deadline = options.timeoutMs === undefined ? undefined : setTimeout(() => void group.terminate(), options.timeoutMs);
    const guard = signalGuard(process);
    const guardId = `exec ${child.pid}`;
    if (child.pid !== undefined) {
      guard.enter(guardId, {
        name: `${path.basename(command)}${args[0] ? ` ${args[0]}` : ''} (pid ${child.pid})`,
        stop: () => void group.terminate(),
        kill: () => group.kill(),
      });
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (settled || child.pid !== undefined) return;
      settled = true;
      clearTimeout(deadline);
      const missing = error.code === 'ENOENT' ? `Unable to locate executable file: ${command} (${error.message})` : error.message;
      resolve({ exitCode: 127, stdout: '', stderr: missing });
    });
    const pipes = [child.stdout, child.stderr];
    child.stdout.on('data', (data: Buffer) => {
      stdout.write(data);
      out.push(data);
      paceToOwnOutput(pipes);
    });
    child.stderr.on('data', (data: Buffer) => {
      stderr.write(data);
      err.push(data);
      paceToOwnOutput(pipes);
    });
    // A program that does not read its input must not fail the run with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    // As @actions/exec: a background process that keeps the pipes open does not hold the result for ever.
    let leftovers: Promise<void> | undefined;
    let drain: NodeJS.Timeout | undefined;
    child.on('exit', (code, signal) => {
      // What the child left running goes too; a pipe still open after that is let go.
      leftovers = group.terminate();
      void leftovers.then(() => {
        drain = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(code, signal);
        }, STDIO_CLOSE_DELAY_MS);
      });
    });
    child.on('close', (code, signal) => void (leftovers ?? group.terminate()).then(() => finish(code, signal)));
    function finish(code: number | null, signal: NodeJS.Signals | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(drain);
      clearTimeout(deadline);
      out.flush();
      err.flush();
      const exitCode = code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1);
      resolve({ exitCode, stdout: stdout.end(), stderr: stderr.end() });
      // Last: after a signal, the last child out ends this process.
      guard.leave(guardId, raiseAgain);
    }
  });
}

const STDIO_CLOSE_DELAY_MS = 10_000;

/** The text of a stream, keeping only its last `max` characters (amortised: cut at twice that). */
class TextTail {
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  private cut = false;

  constructor(private readonly max: number) {}

  write(data: Buffer): void {
    this.text += this.decoder.write(data);
    if (this.text.length > 2 * this.max) {
      this.text = this.text.slice(-this.max);
      this.cut = true;
    }
  }

  end(): string {
    this.text += this.decoder.end();
    if (!this.cut && this.text.length <= this.max) return this.text;
    // From the next whole line on, so that a cut line is not read as a line.
    const text = this.text.slice(-this.max);
    const newline = text.indexOf('\n');
    return `[… earlier output not kept]\n${newline >= 0 ? text.slice(newline + 1) : text}`;
  }
}

/** The first executable `name` in this process's PATH. */
function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, fsConstants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function definedValues(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The last non-empty lines of a command's output, for error messages. */
export function lastLines(text: string, count = 5): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-count)
    .join('\n');
}
