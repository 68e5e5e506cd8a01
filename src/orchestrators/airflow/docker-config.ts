import { z } from 'zod';

/** Environment variables the container task sets itself; the user's `environment` may not replace them. */
export const RESERVED_ENV_PREFIX = 'LOLPOP_DEPLOY_';

/** The user's own variables for the task's container (`docker.environment`, `kubernetes.environment`). */
export const ContainerEnvironment = z
  .record(z.string(), z.string())
  .default({})
  .superRefine((env, ctx) => {
    for (const name of Object.keys(env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'expected an environment variable name (letters, digits, _; not starting with a digit)' });
      } else if (name.startsWith(RESERVED_ENV_PREFIX)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `${RESERVED_ENV_PREFIX}* variables are set by lolpop-deploy (the run's conf, run id and deployment)` });
      }
    }
  })
  .describe("Extra environment variables for the container. Values are Airflow templates (e.g. {{ var.value.token }}), rendered by the worker.");

/** One DockerOperator mount: docker.types.Mount's keyword arguments. */
const DockerMount = z
  .strictObject({
    target: z.string().regex(/^\//, 'expected an absolute path in the container, e.g. /data').describe('Where it appears in the container.'),
    source: z.string().min(1).optional().describe('A path on the Docker host (type bind) or a volume name (type volume; none: an anonymous volume).'),
    type: z.enum(['bind', 'volume', 'tmpfs']).default('volume'),
    read_only: z.boolean().default(false),
  })
  .superRefine((mount, ctx) => {
    if (mount.type === 'bind' && !mount.source?.startsWith('/')) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'a bind mount needs an absolute source path on the Docker host, e.g. /srv/data' });
    }
    if (mount.type === 'tmpfs' && mount.source !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'a tmpfs mount has no source' });
    }
  });

/**
 * `orchestrator.config.docker`: the DockerOperator settings of `task: docker`, named as
 * DockerOperator names them. Anything left out keeps DockerOperator's default, except
 * auto_remove: force, so containers do not pile up on the engine (the output is in the
 * task log). Provider 4.6.1 removes the container after the run with success too, even a
 * failed one (observed); force also removes it when the task is killed.
 */
export const DockerTaskConfig = z
  .strictObject({
    docker_url: z
      .string()
      .regex(/^(unix|tcp|ssh|http|https|npipe):\/\/\S+$/, 'expected a Docker engine URL, e.g. unix://var/run/docker.sock or tcp://docker:2376')
      .optional()
      .describe("The Docker engine the worker starts the container on; default: the worker's DOCKER_HOST, else unix://var/run/docker.sock."),
    network_mode: z
      .string()
      .regex(/^\S+$/, 'expected a network mode without spaces: bridge, host, none, container:<name> or a network name')
      .optional()
      .describe("The container's network: bridge (Docker's default), host, none, container:<name|id> or a user network."),
    docker_conn_id: z
      .string()
      .regex(/^[\w#!()\-.:/\\]+$/, "expected an Airflow connection id, e.g. docker_registry (letters, digits and _ - . : / # ! ( ) only)")
      .optional()
      .describe('An Airflow connection (type docker: host = registry, login, password) the worker logs in to the registry with before it pulls.'),
    auto_remove: z
      .enum(['never', 'success', 'force'])
      .default('force')
      .describe('never keeps the container; success and force remove it after the run (provider 4.6.1: failed or not); force (default) also when the task is killed.'),
    force_pull: z.boolean().default(false).describe('Pull the image before every run, even when the engine has it (for a tag that is reused, e.g. latest).'),
    mount_tmp_dir: z.boolean().default(true).describe("Bind a temporary folder of the worker's host at /tmp/airflow (DockerOperator's default); false for a remote engine."),
    mounts: z.array(DockerMount).default([]).describe('Volumes and bind mounts for the container.'),
    environment: ContainerEnvironment,
  })
  .describe('DockerOperator settings, for task: docker.');

export type DockerTaskConfig = z.infer<typeof DockerTaskConfig>;
