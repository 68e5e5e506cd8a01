import { StringDecoder } from 'node:string_decoder';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { LineSplitter } from '../../exec.js';
import { ProcessGroup } from '../../process/group.js';
import { paceToOwnOutput } from '../../process/pace.js';
import { TailBuffer } from '../../tail-buffer.js';
import type { LogLine } from './report.js';

/** Byte caps on a run's output. The log file is written as it arrives; memory holds a tail. */
export interface OutputLimits {
  /** A line longer than this is cut (in memory, the logger and the report); log.txt has it whole. */
  lineBytes: number;
  /** The in-memory tail of the log (what the report shows): at most this many bytes … */
  tailBytes: number;
  /** … and this many lines. */
  tailLines: number;
  /** log.txt stops here, with a note of how much more there was. */
  logFileBytes: number;
}

export const DEFAULT_LIMITS: OutputLimits = {
  lineBytes: 16 * 1024,
  tailBytes: 1024 * 1024,
  tailLines: 5000,
  logFileBytes: 256 * 1024 * 1024,
};

/** Why lolpop-deploy stopped a run itself. */
export type StopReason = { reason: 'timeout'; afterMs: number } | { reason: 'signal'; signal: NodeJS.Signals };

export interface ChildOutcome {
  /** Null when a signal ended it, or it never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stoppedBy?: StopReason;
  /** Set when the process could not be started (ENOENT, EACCES, …). */
  spawnError?: string;
  /** The last lines (within the byte and line caps). */
  tail: LogLine[];
  /** How many lines there were in all. */
  totalLines: number;
  /** Output bytes in all, and the bytes log.txt did not get (over its cap). */
  bytes: number;
  unwrittenBytes: number;
}

export interface ChildOptions {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Appended to as output arrives (whole lines, redacted, capped at limits.logFileBytes). */
  logFile: string;
  /** Applied to what log.txt gets (the logger's redaction): the run's own output may print a secret. */
  redact?(text: string): string;
  limits: OutputLimits;
  /** SIGTERM, then SIGKILL this long after to what is still there (see ProcessGroup). */
  killGraceMs: number;
  /** `marker`: the variable its processes carry (ProcessGroup), recorded so that a later process can stop them. */
  onSpawn?(pid: number, marker: string): void;
  onLine?(line: LogLine): void;
}

/** A running child in its own process group; `done` settles when it has ended and its output is read. */
export interface RunningChild {
  readonly pid: number | undefined;
  readonly done: Promise<ChildOutcome>;
  /** Terminates the child and all it started: SIGTERM, then SIGKILL after the grace period. Idempotent. */
  stop(why: StopReason): void;
  /** SIGKILL all of it now (a second Ctrl-C). */
  kill(): void;
}

/**
 * Starts `command` as the leader of a new process group (detached: a new session), so
 * that it and everything it starts can be signalled at once and a Ctrl-C in the terminal
 * reaches lolpop-deploy, which decides. Output is split into lines in bounded memory: a
 * line without an end is cut at `lineBytes` and the rest only counted, whatever its size.
 * When the leader exits, what is left of what it started is terminated too, and `done`
 * settles only when nothing is left, so nothing outlives a run.
 */
export function startChild(options: ChildOptions): RunningChild {
  const { limits } = options;
  const fd = openSync(options.logFile, 'a');
  let written = 0;
  let unwritten = 0;
  let bytes = 0;
  const redact = options.redact ?? ((text: string) => text);
  const writeText = (text: string) => {
    const data = Buffer.from(redact(text), 'utf8');
    const room = limits.logFileBytes - written;
    if (room <= 0) {
      unwritten += data.length;
      return;
    }
    const part = data.length > room ? data.subarray(0, room) : data;
    writeSync(fd, part);
    written += part.length;
    unwritten += data.length - part.length;
  };
  // log.txt gets whole lines, redacted: a secret split across two chunks is still within
  // one line. Each stream keeps its own unfinished line; one longer than lineBytes is
  // written as it stands (a secret across that cut is the one case not redacted).
  const logStream = () => {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    return {
      push(data: Buffer): void {
        bytes += data.length;
        pending += decoder.write(data);
        const end = pending.lastIndexOf('\n');
        const cut = end >= 0 ? end + 1 : pending.length > limits.lineBytes ? pending.length : 0;
        if (cut === 0) return;
        writeText(pending.slice(0, cut));
        pending = pending.slice(cut);
      },
      flush(): void {
        pending += decoder.end();
        if (pending) writeText(pending);
        pending = '';
      },
    };
  };
  const outLog = logStream();
  const errLog = logStream();

  const tail = new TailBuffer<LogLine>(limits.tailBytes, limits.tailLines);
  const emit = (line: LogLine) => {
    tail.push(line);
    options.onLine?.(line);
  };
  const out = new LineSplitter(limits.lineBytes, (text) => emit({ stream: 'stdout', text }));
  const err = new LineSplitter(limits.lineBytes, (text) => emit({ stream: 'stderr', text }));

  const group = new ProcessGroup(options.killGraceMs);
  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      ...group.spawnOptions(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (error) {
    // Invalid arguments (a NUL byte in PYTHON) throw here rather than emit 'error'.
    closeSync(fd);
    throw error;
  }
  group.started(child.pid);
  let stoppedBy: StopReason | undefined;

  const pipes = [child.stdout, child.stderr];
  child.stdout.on('data', (data: Buffer) => {
    outLog.push(data);
    out.push(data);
    paceToOwnOutput(pipes);
  });
  child.stderr.on('data', (data: Buffer) => {
    errLog.push(data);
    err.push(data);
    paceToOwnOutput(pipes);
  });

  const done = new Promise<ChildOutcome>((resolve) => {
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let leftovers: Promise<void> | undefined;
    let drain: NodeJS.Timeout | undefined;
    const finish = (spawnError?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(drain);
      out.flush();
      err.flush();
      outLog.flush();
      errLog.flush();
      if (unwritten > 0) {
        writeSync(fd, `\n[lolpop-deploy: log.txt stops at ${limits.logFileBytes} bytes; ${unwritten} more bytes of output were not written]\n`);
      }
      closeSync(fd);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        ...(stoppedBy ? { stoppedBy } : {}),
        ...(spawnError ? { spawnError } : {}),
        tail: tail.lines(),
        totalLines: tail.total,
        bytes,
        unwrittenBytes: unwritten,
      });
    };
    child.on('error', (error) => {
      // Only a failed spawn leaves no pid; a failed kill is ignored by ProcessGroup.
      if (child.pid === undefined) finish(error.message);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Anything the run left behind (a daemon, a process that closed its pipes) goes too;
      // then a pipe still open after the grace period has no writer we know of and is let go.
      leftovers = group.terminate();
      void leftovers.then(() => (drain = setTimeout(finish, options.killGraceMs)));
    });
    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      void (leftovers ?? group.terminate()).then(() => finish());
    });
  });

  if (child.pid !== undefined) options.onSpawn?.(child.pid, group.marker);
  return {
    pid: child.pid,
    done,
    stop(why) {
      if (stoppedBy || child.exitCode !== null || child.signalCode !== null) return;
      stoppedBy = why;
      void group.terminate();
    },
    kill() {
      group.kill();
    },
  };
}

/** `exit code 1`, `killed by SIGTERM`. */
export function describeExit(exitCode: number | null | undefined, signal: string | null | undefined): string {
  if (signal) return `killed by ${signal}`;
  return exitCode === null || exitCode === undefined ? 'no exit code' : `exit code ${exitCode}`;
}
