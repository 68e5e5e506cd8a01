import {
  containerLogsArgs,
  containersWithLabelArgs,
  inspectContainerArgs,
  refuseRepeatedOptions,
  removeContainerArgs,
  runContainerArgs,
  stopContainerArgs,
} from '../../docker/args.js';
import { describeDockerFailure } from '../../docker/docker.js';
import { dockerResources, type DockerResources } from '../../docker/resources.js';
import type { Resources } from '../../config/resources.js';
import { CommandError } from '../../errors.js';
import { lastLines, type Exec } from '../../exec.js';
import type { Logger } from '../../logger.js';
import type { PrefectConnection } from './connection.js';

/**
 * deploy.resources of a serving container as Docker's limits; what Docker cannot honour is
 * refused by name, and so is an option deploy.docker_kwargs gives too. Package, plan and
 * deploy call it before anything else (deploy: before the old container goes).
 */
export function staticDockerResources(d: { deploy: { resources?: Resources; docker_kwargs?: string[] } }): DockerResources {
  const resources = dockerResources(d.deploy.resources, 'a Prefect static docker deployment (its serving container)');
  refuseRepeatedOptions(d.deploy.docker_kwargs ?? [], resources);
  return resources;
}

/** Labels on every serving container, so `docker ps --filter label=…` finds them. */
export const CONTAINER_LABEL = 'io.github.lolpop-deploy.deployment';

export interface ServingContainer {
  name: string;
  image: string;
  deploymentName: string;
  restart: string;
  extra: string[];
  /** deploy.resources as Docker's limits (docker/resources.ts). */
  resources?: DockerResources;
}

/**
 * Static infrastructure on a Docker host (lolpop's PrefectOrchestrator docs, "docker, no pool"): one
 * long-lived container per deployment whose CMD runs `flow.serve()`. The Docker
 * host is whatever the docker CLI points at (DOCKER_HOST, the current context,
 * or the local daemon), because the child gets the runner's environment.
 */
export class StaticDockerHost {
  constructor(
    private readonly exec: Exec,
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv,
    private readonly connection: PrefectConnection,
  ) {}

  /**
   * Removes the deployment's old container, then starts the new one: never two
   * serving the same deployment. The Prefect URL and credentials reach the
   * container as `--env NAME` whose value is only in the docker CLI's own
   * environment, so no key is ever on a command line.
   */
  async replace(container: ServingContainer): Promise<string> {
    const secrets: Record<string, string | undefined> = {
      PREFECT_API_URL: this.connection.apiUrl,
      PREFECT_API_KEY: this.connection.apiKey,
      PREFECT_API_AUTH_STRING: this.connection.authString,
    };
    const passed = Object.fromEntries(Object.entries(secrets).filter((e): e is [string, string] => e[1] !== undefined));
    const args = runContainerArgs({
      name: container.name,
      image: container.image,
      restart: container.restart,
      envNames: Object.keys(passed),
      labels: { [CONTAINER_LABEL]: container.deploymentName },
      extra: container.extra,
      resources: container.resources,
    });
    // Only now, with the arguments known to be valid: a config error must not leave the
    // deployment with nothing serving.
    if (await this.remove(container.name)) this.logger.info(`removed the previous container ${container.name}`);
    await this.removeStrays(container.deploymentName);
    this.logger.info(`docker ${args.join(' ')}`);
    const res = await this.exec.run('docker', args, { env: { ...this.env, ...passed } });
    if (res.exitCode !== 0) {
      // `docker run` creates before it starts: a start the engine refused (a GPU it has
      // no driver for) leaves a container that never ran; it must not linger.
      await this.remove(container.name).catch((error: unknown) => {
        this.logger.warning(`could not remove the container ${container.name} that did not start: ${error instanceof Error ? error.message : String(error)}`);
      });
      throw new CommandError(`Failed to start the container ${container.name} from ${container.image}: ${describeDockerFailure(res.stderr || res.stdout)}`);
    }
    return res.stdout.trim();
  }

  /** Why the container cannot be serving (exited, restarting after a crash), or undefined while it runs. */
  async problem(name: string): Promise<string | undefined> {
    const res = await this.exec.run('docker', inspectContainerArgs(name), { env: this.env });
    if (res.exitCode !== 0) return `the container ${name} is gone (${lastLines(res.stderr, 1)})`;
    const [status = '', code = ''] = res.stdout.trim().split(/\s+/);
    if (status === 'running' || status === 'created') return undefined;
    const logs = await this.exec.run('docker', containerLogsArgs(name, 8), { env: this.env });
    const tail = lastLines(`${logs.stdout}\n${logs.stderr}`, 4).replace(/\n/g, ' | ');
    return `the container ${name} is ${status} (exit code ${code})${tail ? `: ${tail}` : ''}`;
  }

  /**
   * Stops the container gracefully, so its serve() pauses the deployment, then
   * removes it. False when there was no such container.
   */
  async stopAndRemove(name: string, deploymentName: string, graceSeconds = 20): Promise<boolean> {
    const stopped = await this.exec.run('docker', stopContainerArgs(name, graceSeconds), { env: this.env });
    const removed = !(stopped.exitCode !== 0 && isNoSuchContainer(stopped.stderr)) && (await this.remove(name));
    const strays = await this.removeStrays(deploymentName);
    return removed || strays > 0;
  }

  /**
   * Containers of this deployment under another name (deploy.container_name was
   * changed since): found by their label and removed, so none keeps serving.
   */
  private async removeStrays(deploymentName: string): Promise<number> {
    const res = await this.exec.run('docker', containersWithLabelArgs(CONTAINER_LABEL, deploymentName), { env: this.env });
    if (res.exitCode !== 0) throw new CommandError(`Failed to list the containers of ${deploymentName}: ${describeDockerFailure(res.stderr || res.stdout)}`);
    const ids = res.stdout.split(/\s+/).filter(Boolean);
    for (const id of ids) {
      await this.remove(id);
      this.logger.info(`removed container ${id}, which also served ${deploymentName}`);
    }
    return ids.length;
  }

  /** `docker rm --force`; false when there was no such container. */
  async remove(name: string): Promise<boolean> {
    const res = await this.exec.run('docker', removeContainerArgs(name), { env: this.env });
    if (res.exitCode === 0) return true;
    if (isNoSuchContainer(res.stderr)) return false;
    throw new CommandError(`Failed to remove the container ${name}: ${describeDockerFailure(res.stderr || res.stdout)}`);
  }

}

function isNoSuchContainer(stderr: string): boolean {
  return /no such container/i.test(stderr);
}
