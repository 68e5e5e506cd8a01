import { CommandError } from '../errors.js';
import { lastLines, type Exec } from '../exec.js';
import type { Logger } from '../logger.js';
import { buildArgs, type BuildArgsInput } from './args.js';

/** The Docker CLI, through the one Exec; every failure becomes one line a user can act on. */
export class DockerCli {
  constructor(
    private readonly exec: Exec,
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** True when a daemon answers (`docker version` reaches the server). */
  async available(): Promise<boolean> {
    const res = await this.exec.run('docker', ['version', '--format', '{{.Server.Version}}'], { env: this.childEnv() });
    return res.exitCode === 0;
  }

  async build(input: BuildArgsInput): Promise<void> {
    const res = await this.exec.run('docker', buildArgs(input), {
      env: this.childEnv(),
      onLine: (line) => this.logger.info(line),
    });
    if (res.exitCode !== 0) {
      throw new CommandError(`Failed to build the image ${input.image}: ${describeDockerFailure(res.stderr || res.stdout)}`);
    }
  }

  async login(registry: string, username: string, password: string): Promise<void> {
    const res = await this.exec.run('docker', ['login', registry, '--username', username, '--password-stdin'], {
      env: this.childEnv(),
      input: password,
    });
    if (res.exitCode !== 0) throw new CommandError(`Failed to log in to ${registry}: ${describeDockerFailure(res.stderr)}`);
  }

  /** Pushes and returns the registry's manifest digest (sha256:…). */
  async push(image: string): Promise<string> {
    const res = await this.exec.run('docker', ['push', image], { env: this.childEnv(), onLine: (line) => this.logger.info(line) });
    if (res.exitCode !== 0) {
      throw new CommandError(`Failed to push ${image}: the registry refused: ${describeDockerFailure(res.stderr || res.stdout)}`);
    }
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(res.stdout)?.[1];
    if (!digest) throw new CommandError(`Failed to push ${image}: docker push printed no digest`);
    return digest;
  }

  private childEnv(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.env).filter((e): e is [string, string] => e[1] !== undefined));
  }
}

/** The line that says why: a missing daemon in one line, else the last lines of output. */
export function describeDockerFailure(output: string): string {
  if (/Cannot connect to the Docker daemon|docker daemon is not running|error during connect/i.test(output)) {
    return 'no Docker daemon is reachable (is Docker running, or DOCKER_HOST set?)';
  }
  if (/Unable to locate executable file: docker|ENOENT/i.test(output)) return 'the docker CLI is not installed';
  return lastLines(output, 6).replace(/\n/g, ' | ');
}
