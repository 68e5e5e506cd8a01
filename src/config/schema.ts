import { z } from 'zod';
import { parseDuration } from '../duration.js';

/**
 * The one source of the config's shape: TypeScript types, runtime validation and
 * the published JSON Schema (schema/lolpop-deploy.schema.json) all come from here.
 * Key names and defaults are lolpop's (its PrefectOrchestrator documentation); objects are strict so a typo is
 * reported instead of silently ignored.
 */

const jsonObject = z.record(z.string(), z.unknown());
const stringMap = z.record(z.string(), z.string());

/** A Prefect entrypoint, `path/to/file.py:function`. */
const FlowEntrypoint = z.string().regex(/^[^:]+\.py:[A-Za-z_][A-Za-z0-9_]*$/, 'expected path/to/file.py:function');

/**
 * lolpop's deploy kwarg: a function name in the module `flow_class` (lolpop's PrefectOrchestrator docs:
 * `"flow_class":"prefect_files.run", "flow_entrypoint":"prefect_entrypoint"`), or,
 * without flow_class, a Prefect entrypoint `path/to/file.py:function`.
 */
const DeployFlowEntrypoint = z
  .string()
  .regex(/^([^:]+\.py:)?[A-Za-z_][A-Za-z0-9_]*$/, 'expected a function name (with flow_class) or path/to/file.py:function');

/**
 * Extra `docker` arguments: a list as typed on the command line, or lolpop's documented
 * dict form, `{"network": "host", "no-cache": true}` → `--network host --no-cache`
 * (a list value repeats the flag; false leaves it out).
 */
const DockerArgs = z
  .union([
    z.array(z.string()),
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))])),
  ])
  .transform((value) => (Array.isArray(value) ? value : dockerArgsFromDict(value)));

function dockerArgsFromDict(dict: Record<string, string | number | boolean | Array<string | number>>): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(dict)) {
    const flag = key.startsWith('-') ? key : `--${key.replace(/_/g, '-')}`;
    if (value === true) args.push(flag);
    else if (value === false) continue;
    else for (const item of Array.isArray(value) ? value : [value]) args.push(flag, String(item));
  }
  return args;
}

/** A duration string, checked by the one parser every step uses (so load-time and run-time agree). */
const Duration = () =>
  z.string().superRefine((text, ctx) => {
    try {
      parseDuration(text, 'duration');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^duration: /, '') });
    }
  });

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

/** The image and install line that give lolpop 0.2.0 a Python and a Prefect it supports. */
export const DEFAULT_BASE_IMAGE = 'prefecthq/prefect:2-python3.11';
export const DEFAULT_LOLPOP_INSTALL = "'lolpop[prefect,mlflow,xgboost]>=0.2.0'";

export const DEPLOYMENT_TYPES = ['docker', 'kubernetes', 'local'] as const;

export const PackageKwargs = z
  .strictObject({
    lolpop_class: z.string().optional().describe('The lolpop runner class to package (lolpop -c).'),
    lolpop_module: z.string().optional().describe('Python module that defines lolpop_class.'),
    lolpop_entrypoint: z.string().default('build_all').describe('Method of lolpop_class the flow calls.'),
    flow_name: z.string().default('prefect_entrypoint').describe('Name of the generated flow function.'),
    flow_entrypoint: FlowEntrypoint.optional().describe('A plain Prefect flow (path/to/file.py:flow_fn) to use instead of the lolpop wrapper.'),
    package_type: z.enum(['docker', 'none']).default('docker'),
    // lolpop 0.2.0 needs Python < 3.12 and Prefect 2: on a newer Python pip silently picks
    // lolpop 0.1.0a2, which has no orchestrators. See packaging/image-check.ts.
    base_image: z.string().default(DEFAULT_BASE_IMAGE),
    prefect_files: z.string().default('prefect_files/'),
    copy_files: z.array(z.string()).default([]),
    // lolpop's default minus its `cli` extra: the runner never needs the CLI, whose
    // dependencies (sdv, openai) make the image far larger.
    lolpop_install_location: z.string().default(DEFAULT_LOLPOP_INSTALL),
    run_cmd: z.string().optional().describe('Defaults to "python {prefect_files}/run.py".'),
    config_file: z.string().optional().describe('Defaults to "{prefect_files}/dev.yaml".'),
    flow_kwargs: jsonObject.optional(),
    dockerfile_path: z.string().default('Dockerfile'),
    docker_image_tag: z.string().optional().describe('Supports {sha}, {short_sha}, {ref}, {run}.'),
    push_image: z.boolean().default(false),
    skip_validation: z.boolean().default(false),
    create_deployment: z.boolean().default(false),
    work_pool: z.string().optional(),
    job_variables: jsonObject.optional(),
    build_args: stringMap.optional(),
    docker_kwargs: DockerArgs.optional().describe('Extra `docker build` arguments: a list, or a dict {"network": "host"}.'),
  })
  .describe('--packaging-kwargs');

export const DeployKwargs = z
  .strictObject({
    work_pool: z.string().optional(),
    work_queue_name: z.string().optional(),
    flow_class: z.string().optional(),
    flow_entrypoint: DeployFlowEntrypoint.optional().describe("lolpop's: the flow function in flow_class; or path/to/file.py:function."),
    docker_image_name: z.string().optional(),
    job_variables: jsonObject.optional(),
    pull_steps: z.array(jsonObject).optional(),
    parameters: jsonObject.optional(),
    tags: z.array(z.string()).optional(),
    description: z.string().optional(),
    version: z.string().optional(),
    enforce_parameter_schema: z.boolean().optional(),
    flow_kwargs: jsonObject.optional(),
    deployment_kwargs: DeploymentKwargs.optional(),
    // Static infrastructure (docker host / kubernetes), names from lolpop's PrefectOrchestrator docs.
    k8s_deployment_manifest: z.string().optional(),
    // lolpop's deploy builds (and pushes) the image through flow.deploy(); here package
    // does, so these are refused with that reason (see load.ts), never dropped.
    dockerfile: z.string().optional(),
    push_image: z.boolean().optional(),
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
    // Static docker (type docker, no work pool): the serving container.
    container_name: z.string().optional().describe('Name of the serving container; defaults to the deployment name.'),
    restart_policy: z.string().default('unless-stopped').describe('`docker run --restart` of the serving container.'),
    docker_kwargs: DockerArgs.optional().describe('Extra `docker run` arguments for the serving container, e.g. ["--network", "host"].'),
    serve_timeout: Duration()
      .default('3m')
      .describe('How long deploy/run wait for a served deployment (static docker/kubernetes) to register.'),
  })
  .describe('--deployment-kwargs');

export const RunKwargs = z
  .strictObject({
    parameters: jsonObject.default({}),
    tags: z.array(z.string()).optional(),
    flow_run_name: z.string().optional(),
    job_variables: jsonObject.optional(),
    idempotency_key: z.string().optional().describe('Defaults to one per workflow run attempt in GitHub Actions.'),
    wait: z.boolean().default(false),
    wait_timeout: Duration().default('30m'),
    poll_interval: Duration().default('2s'),
  })
  .describe('--run-kwargs');

export const StopKwargs = z
  .strictObject({
    mode: z.enum(['pause', 'delete']).default('pause').describe('What stop does to a work-pool deployment.'),
    cancel_runs: z.boolean().default(false),
    docker_image_name: z.string().optional(),
    cancel_timeout: Duration()
      .default('60s')
      .describe('How long stop waits for cancelled running flow runs to reach CANCELLED.'),
    delete_secret: z.boolean().default(false).describe('kubernetes: also delete the Secret (shared by default by every deployment in the namespace).'),
  })
  .describe('--stop-kwargs');

export const DeploymentBlock = z.strictObject({
  name: z.string().min(1).optional().describe('Deployment name (lolpop -n); the action input deployment-name overrides it.'),
  type: z.enum(DEPLOYMENT_TYPES).default('docker').describe('lolpop -t'),
  package: PackageKwargs.default(PackageKwargs.parse({})),
  deploy: DeployKwargs.default(DeployKwargs.parse({})),
  run: RunKwargs.default(RunKwargs.parse({})),
  stop: StopKwargs.default(StopKwargs.parse({})),
});

export const OrchestratorBlock = z
  .object({
    config: jsonObject.default({}).describe("The orchestrator's own config (names from lolpop's PrefectOrchestrator docs)."),
    deployment: DeploymentBlock.default(DeploymentBlock.parse({})),
  })
  .loose();

const DecoratorBlock = z
  .object({ orchestrator: z.string().min(1).describe('Orchestrator class, e.g. PrefectOrchestrator') })
  .loose();

/**
 * The whole lolpop file. lolpop's own keys (pipelines, components, …) pass
 * through untouched; both spellings lolpop has used are accepted.
 */
export const LolpopFile = z
  .object({
    decorator: DecoratorBlock.optional(),
    decorators: DecoratorBlock.optional(),
    pipeline: jsonObject.optional(),
    pipelines: jsonObject.optional(),
    component: jsonObject.optional(),
    components: jsonObject.optional(),
    orchestrator: OrchestratorBlock.optional(),
  })
  .loose();

export type PackageKwargs = z.infer<typeof PackageKwargs>;
export type DeployKwargs = z.infer<typeof DeployKwargs>;
export type RunKwargs = z.infer<typeof RunKwargs>;
export type StopKwargs = z.infer<typeof StopKwargs>;
export type DeploymentBlock = z.infer<typeof DeploymentBlock>;
export type LolpopFile = z.infer<typeof LolpopFile>;

/** The step sections that inputs/flags override, keyed by their lolpop flag name. */
export const OVERRIDE_SECTIONS = {
  package: 'packaging-kwargs',
  deploy: 'deployment-kwargs',
  run: 'run-kwargs',
  stop: 'stop-kwargs',
} as const;
export type StepSection = keyof typeof OVERRIDE_SECTIONS;
