import * as actionsExec from '@actions/exec';

export interface ExecOptions {
  cwd?: string;
  /** The child's whole environment (unset values are dropped); default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Written to the process's standard input (e.g. a registry password for `--password-stdin`). */
  input?: string;
  /** Called with each line of output as it arrives, so long steps show progress. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Every child process goes through this, so argv builders stay pure and tests
 * can substitute an object literal. It never throws on a non-zero exit: callers
 * turn the exit code and last stderr lines into a message a user can act on.
 */
export interface Exec {
  run(command: string, args: string[], options?: ExecOptions): Promise<ExecResult>;
}

function lineSplitter(emit: (line: string) => void): { push(data: Buffer): void; flush(): void } {
  let rest = '';
  return {
    push(data) {
      const parts = (rest + data.toString('utf8')).split(/\r?\n/);
      rest = parts.pop() ?? '';
      for (const line of parts) emit(line);
    },
    flush() {
      if (rest) emit(rest);
      rest = '';
    },
  };
}

/** The real Exec, on @actions/exec (silent: output is passed to `onLine`, not echoed). */
export class ProcessExec implements Exec {
  async run(command: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const onLine = options.onLine;
    const out = lineSplitter((l) => onLine?.(l, 'stdout'));
    const err = lineSplitter((l) => onLine?.(l, 'stderr'));
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
