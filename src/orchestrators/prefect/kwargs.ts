import { z } from 'zod';
import { Resources } from '../../config/resources.js';
import {
  DeployKwargs,
  DockerArgs,
  Duration,
  jsonObject,
  PackageKwargs,
  RunKwargs,
  StopKwargs,
  type KwargsSchemas,
} from '../../config/schema.js';

/**
 * PrefectOrchestrator's own step kwargs: the common ones (config/schema.ts) and the keys
 * only Prefect reads (work pools, job variables, pull steps, Prefect's deploy()
 * arguments, the static docker / kubernetes infrastructure). Names and defaults are
 * lolpop's (its PrefectOrchestrator docs); strict, so a typo is reported.
 */

/**
 * lolpop's `deployment_kwargs`: what its deploy() passes on to Prefect's `flow.deploy()` /
 * `flow.serve()`. Each key reaches the deployment; Prefect's other arguments are about
 * building images or printing and have no meaning over REST, so they are refused.
 */
export const DeploymentKwargs = z
  .strictObject({
    tags: z.array(z.string()).optional(),
    description: z.string().optional(),
    version: z.string().optional(),
    parameters: jsonObject.optional(),
    enforce_parameter_schema: z.boolean().optional(),
    work_queue_name: z.string().optional(),
    job_variables: jsonObject.optional().describe('Merged over deploy.job_variables.'),
    paused: z.boolean().optional(),
    concurrency_limit: z.number().int().min(1).optional().describe('Prefect 3 servers only.'),
    cron: z.string().optional(),
    interval: z.number().positive().optional().describe('Seconds between runs.'),
    rrule: z.string().optional(),
    timezone: z.string().optional().describe('For cron and rrule.'),
  })
  .describe("deploy.deployment_kwargs: Prefect's flow.deploy()/serve() arguments");

export const PrefectPackageKwargs = PackageKwargs.extend({
  work_pool: z.string().optional(),
  job_variables: jsonObject.optional(),
});

const PrefectDeployKwargsObject = DeployKwargs.extend({
  work_pool: z.string().optional(),
  work_queue_name: z.string().optional(),
  docker_image_name: z.string().optional(),
  job_variables: jsonObject.optional(),
  pull_steps: z.array(jsonObject).optional(),
  version: z.string().optional(),
  enforce_parameter_schema: z.boolean().optional(),
  deployment_kwargs: DeploymentKwargs.optional(),
  // Static infrastructure (docker host / kubernetes), names from lolpop's PrefectOrchestrator docs.
  k8s_deployment_manifest: z.string().optional(),
  secret_name: z.string().default('prefect-secrets'),
  num_replicas: z.number().int().min(0).default(1),
  prefect_api_key: z.string().default('prefect-api-key'),
  prefect_api_url: z.string().default('prefect-api-url'),
  image_pull_policy: z.enum(['Always', 'IfNotPresent', 'Never']).default('Never'),
  manifest_path: z.string().default('prefect_files/deployment_manifest.yaml'),
  namespace: z.string().default('lolpop'),
  worker_image: z.string().default('prefecthq/prefect:3-python3.12-kubernetes'),
  worker_deployment_manifest: z.string().default('prefect_files/worker_deployment_manifest.yaml'),
  service_account: z.string().default('default'),
  pod_api_url: z
    .url()
    .optional()
    .describe("kubernetes: the Prefect API URL as the cluster's pods reach it, when it differs from the runner's PREFECT_API_URL."),
  rollout_timeout: Duration('5m').describe('kubernetes: how long deploy waits for the Deployment to roll out (every replica ready).'),
  resources: Resources.optional(),
  // Static docker (type docker, no work pool): the serving container.
  container_name: z.string().optional().describe('Name of the serving container; defaults to the deployment name.'),
  restart_policy: z.string().default('unless-stopped').describe('`docker run --restart` of the serving container.'),
  docker_kwargs: DockerArgs.optional().describe('Extra `docker run` arguments for the serving container, e.g. ["--network", "host"].'),
  serve_timeout: Duration('3m').describe('How long deploy/run wait for a served deployment (static docker/kubernetes) to register.'),
});

/** The deploy() arguments that are also deploy kwargs of their own. */
const FOLDED = ['tags', 'description', 'version', 'parameters', 'enforce_parameter_schema', 'work_queue_name'] as const;

/**
 * lolpop's `deployment_kwargs` (what its deploy() hands to Prefect's flow.deploy()) folded
 * into the deploy kwargs, the form every step reads: a key given both ways is an error,
 * job_variables are merged.
 */
export const PrefectDeployKwargs = PrefectDeployKwargsObject.transform((deploy, ctx) => {
  const extra = deploy.deployment_kwargs;
  if (!extra) return deploy;
  const resolved = { ...deploy };
  for (const key of FOLDED) {
    if (extra[key] === undefined) continue;
    if (deploy[key] !== undefined) {
      ctx.issues.push({ code: 'custom', path: ['deployment_kwargs', key], message: `also given as deploy.${key}; give it once`, input: extra[key] });
      continue;
    }
    Object.assign(resolved, { [key]: extra[key] });
  }
  if (extra.job_variables) resolved.job_variables = { ...deploy.job_variables, ...extra.job_variables };
  return resolved;
});

export const PrefectRunKwargs = RunKwargs.extend({
  tags: z.array(z.string()).optional(),
  flow_run_name: z.string().optional(),
  job_variables: jsonObject.optional(),
});

export const PrefectStopKwargs = StopKwargs.extend({
  // lolpop's: accepted for parity; the serving container is found by the deployment, not the image.
  docker_image_name: z.string().optional(),
  delete_secret: z.boolean().default(false).describe('kubernetes: also delete the Secret (shared by default by every deployment in the namespace).'),
});

export type DeploymentKwargs = z.infer<typeof DeploymentKwargs>;
export type PrefectPackageKwargs = z.infer<typeof PrefectPackageKwargs>;
export type PrefectDeployKwargs = z.infer<typeof PrefectDeployKwargs>;
export type PrefectRunKwargs = z.infer<typeof PrefectRunKwargs>;
export type PrefectStopKwargs = z.infer<typeof PrefectStopKwargs>;

/** PrefectOrchestrator's kwargs, per step section. */
export interface PrefectKwargs {
  package: PrefectPackageKwargs;
  deploy: PrefectDeployKwargs;
  run: PrefectRunKwargs;
  stop: PrefectStopKwargs;
}

/** The plugin's `kwargs`. */
export const PREFECT_KWARGS: KwargsSchemas<PrefectKwargs> = {
  package: PrefectPackageKwargs,
  deploy: PrefectDeployKwargs,
  run: PrefectRunKwargs,
  stop: PrefectStopKwargs,
};
