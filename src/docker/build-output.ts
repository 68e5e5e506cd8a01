import { lastLines } from '../exec.js';

// CSI sequences: the classic builder colours a RUN step's stderr red.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** How many lines of a failing step's output a message quotes. */
const TAIL = 6;

/** The step that failed and its last output lines, as read from `docker build` output. */
export interface BuildFailure {
  /** `step 3` (classic builder) or `[3/5]` (BuildKit). */
  step: string;
  /** The instruction, e.g. `RUN pip install -r requirements.txt`. */
  instruction: string;
  exitCode?: number;
  output: string[];
}

/**
 * Finds the failing instruction in `docker build` output, classic builder or BuildKit
 * (`--progress=plain`). Undefined when no step failed (e.g. the daemon is unreachable,
 * or the Dockerfile does not parse): then the last lines say why.
 */
export function parseBuildFailure(lines: readonly string[]): BuildFailure | undefined {
  const clean = lines.map((l) => stripAnsi(l).trimEnd());
  return classicFailure(clean) ?? buildkitFailure(clean);
}

function classicFailure(lines: string[]): BuildFailure | undefined {
  // Step 3/5 : RUN …  /  ---> Running in <id>  / output…  / The command '…' returned a non-zero code: N
  const stepAt = lines.findLastIndex((l) => /^Step \d+\/\d+ : /.test(l));
  if (stepAt < 0) return undefined;
  // Not the total: the classic builder counts `--label`s as extra steps the user never wrote.
  const [, step = '', instruction = ''] = /^Step (\d+)\/\d+ : (.*)$/.exec(lines[stepAt] ?? '') ?? [];
  const codeLine = lines.find((l) => /returned a non-zero code: \d+/.test(l));
  const exitCode = codeLine ? Number(/non-zero code: (\d+)/.exec(codeLine)?.[1]) : undefined;
  const output = lines
    .slice(stepAt + 1)
    .filter((l) => l.trim() !== '' && !/^ ---> /.test(l) && l !== codeLine && !/^(Removing intermediate container|DEPRECATED:|\s+(Install the buildx|https:\/\/docs\.docker\.com))/.test(l));
  // A step that failed without running a command (COPY of a missing file) says why in its output.
  return { step: `step ${step}`, instruction, exitCode, output: output.slice(-TAIL) };
}

function buildkitFailure(lines: string[]): BuildFailure | undefined {
  // #7 [3/3] RUN …  /  #7 0.21 output  /  #7 ERROR: process "…" did not complete successfully: exit code: 3
  const errorAt = lines.findIndex((l) => /^#\d+ ERROR: /.test(l));
  if (errorAt < 0) return undefined;
  const id = /^(#\d+) /.exec(lines[errorAt] ?? '')?.[1] ?? '';
  const header = lines.find((l) => l.startsWith(`${id} [`)) ?? '';
  const [, step = '', instruction = ''] = /^#\d+ (\[[^\]]+\]) (.*)$/.exec(header) ?? [];
  const exit = /exit code: (\d+)/.exec(lines[errorAt] ?? '');
  const output = lines
    .slice(0, errorAt)
    .filter((l) => l.startsWith(`${id} `) && l !== header && !/^#\d+ (DONE|CACHED|sha256:)/.test(l))
    .map((l) => l.slice(id.length + 1).replace(/^\d+(\.\d+)? /, ''));
  const reason = exit ? [] : [(lines[errorAt] ?? '').slice(id.length + 1)];
  return { step, instruction, exitCode: exit ? Number(exit[1]) : undefined, output: [...output, ...reason].slice(-TAIL) };
}

/** `step 3/3 RUN make (exit code 2); last output: a | b`, one line. */
export function formatBuildFailure(failure: BuildFailure): string {
  const code = failure.exitCode === undefined ? '' : ` (exit code ${failure.exitCode})`;
  const output = failure.output.length > 0 ? `; last output: ${failure.output.map((l) => l.trim()).join(' | ')}` : '';
  return `${failure.step} ${failure.instruction} failed${code}${output}`;
}

/** The last lines of any docker output, ANSI-free, as one line. */
export function tailOf(output: string, count = TAIL): string {
  return lastLines(stripAnsi(output), count).replace(/\n/g, ' | ');
}
