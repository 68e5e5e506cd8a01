import { CommandError } from '../errors.js';
import type { Exec, ExecResult } from '../exec.js';
import type { Logger } from '../logger.js';
import { TailBuffer } from '../tail-buffer.js';
import { buildArgs, loginArgs, pushArgs, type BuildArgsInput } from './args.js';
import { parseBuilder, type Builder } from './builder.js';
import { formatBuildFailure, parseBuildFailure, stripAnsi, tailOf } from './build-output.js';

/**
 * What a build keeps of its output for the failure message: its last lines, within a byte
 * cap. Every line is logged as it comes (cut at LineSplitter.MAX_LINE_BYTES); a 200 MB
 * build log is not held in memory.
 */
export const BUILD_TAIL = { lines: 200, bytes: 64 * 1024 };

/** The Docker CLI, through the one Exec; every failure becomes one line a user can act on. */
export class DockerCli {
  constructor(
    private readonly exec: Exec,
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** True when a daemon answers (`docker version` reaches the server). */
  async available(): Promise<boolean> {
    const res = await this.exec.run('docker', ['version', '--format', '{{.Server.Version}}'], { env: this.env });
    return res.exitCode === 0;
  }

  /** The builder `docker build` uses: buildx or not, and its driver (one `docker buildx inspect`). */
  async builder(): Promise<Builder> {
    const res = await this.exec.run('docker', ['buildx', 'inspect'], { env: this.env });
    return parseBuilder(res.exitCode === 0 ? res.stdout : undefined);
  }

  /**
   * Builds the image. On failure the message names the failing instruction and quotes its
   * last output lines; an unreachable daemon is one line.
   */
  async build(input: BuildArgsInput): Promise<void> {
    const tail = new TailBuffer(BUILD_TAIL.bytes, BUILD_TAIL.lines);
    const res = await this.exec.run('docker', buildArgs(input), {
      // Plain progress: BuildKit's output is then lines we can quote (ignored by the classic builder).
      // build_args values travel in the environment, never in argv (see buildArgs).
      env: { ...this.env, ...input.buildArgs, BUILDKIT_PROGRESS: 'plain' },
      onLine: (line) => {
        const clean = stripAnsi(line);
        tail.push({ text: clean });
        this.logger.info(clean);
      },
    });
    if (res.exitCode === 0) return;
    const lines = tail.lines().map((l) => l.text);
    const output = lines.length > 0 ? lines.join('\n') : `${res.stdout}\n${res.stderr}`;
    const daemon = daemonProblem(output);
    const failure = daemon ? undefined : parseBuildFailure(output.split('\n'));
    const why = daemon ?? (failure ? formatBuildFailure(failure) : tailOf(res.stderr || output));
    throw new CommandError(`Failed to build the image ${input.image}: ${why}`);
  }

  /** `docker login` with the password on stdin. */
  async login(registry: string, username: string, password: string): Promise<void> {
    const res = await this.exec.run('docker', loginArgs(registry, username), { env: this.env, input: password });
    if (res.exitCode !== 0) {
      throw new CommandError(`Failed to log in to ${registry} as ${username}: ${describeDockerFailure(res.stderr || res.stdout)}`);
    }
  }

  /** Pushes and returns the manifest digest (sha256:…) the registry now serves for the tag. */
  async push(image: string): Promise<string> {
    const res = await this.exec.run('docker', pushArgs(image), { env: this.env, onLine: (line) => this.logger.info(stripAnsi(line)) });
    if (res.exitCode !== 0) throw new CommandError(`Failed to push ${image}: ${describePushFailure(res)}`);
    // "<tag>: digest: sha256:… size: N" — the digest of the manifest the registry stored.
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(res.stdout)?.[1];
    if (!digest) throw new CommandError(`Failed to push ${image}: docker push printed no digest (${tailOf(res.stdout)})`);
    return digest;
  }

  /** Runs a Python snippet in the image (no network, removed afterwards) and returns its stdout. */
  async python(image: string, code: string): Promise<string> {
    const res = await this.exec.run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'python', image, '-c', code], { env: this.env });
    if (res.exitCode !== 0) throw new CommandError(`Failed to inspect ${image}: python in the image: ${describeDockerFailure(`${res.stdout}\n${res.stderr}`)}`);
    return res.stdout;
  }
}

/** One line for a daemon the CLI cannot reach, naming where it looked; undefined otherwise. */
export function daemonProblem(output: string): string | undefined {
  const text = stripAnsi(output);
  if (!/Cannot connect to the Docker daemon|docker daemon is not running|error during connect|connect: no such file or directory.*docker\.sock/i.test(text)) {
    return undefined;
  }
  const where = /daemon at ([^\s.]+(?:\.[^\s.]+)*)\.? /i.exec(text)?.[1] ?? /(unix:\/\/\S+|tcp:\/\/\S+)/.exec(text)?.[1];
  return `no Docker daemon answers${where ? ` at ${where.replace(/[.,]$/, '')}` : ''} (is Docker running? is DOCKER_HOST right?)`;
}

/** The line that says why: a missing daemon in one line, else the last lines of output. */
export function describeDockerFailure(output: string): string {
  const daemon = daemonProblem(output);
  if (daemon) return daemon;
  if (/Unable to locate executable file: docker|ENOENT/i.test(output)) return 'the docker CLI is not installed';
  // The CLI's "Run 'docker run --help' for more information" would be the last line, not the reason.
  return tailOf(output.replace(/^Run 'docker [a-z ]+--help' for more information\.?\s*$/gm, ''));
}

/** Why a push failed; a refusal by the registry says so, with what to do about it. */
function describePushFailure(res: ExecResult): string {
  const output = `${res.stdout}\n${res.stderr}`;
  const daemon = daemonProblem(output);
  if (daemon) return daemon;
  const reason = tailOf(res.stderr || res.stdout, 2);
  if (/no basic auth credentials|unauthorized|authentication required|denied|forbidden|\b40[13]\b/i.test(output)) {
    return (
      `the registry refused: ${reason}; log in first (docker/login-action in the workflow, ` +
      'or the registry-username and registry-password inputs) with an account that may push there'
    );
  }
  return reason;
}
