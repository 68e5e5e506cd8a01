import { z } from 'zod';
import { parseDuration } from '../duration.js';

/**
 * The one source of the config's shape: TypeScript types, runtime validation and
 * the published JSON Schema (schema/lolpop-deploy.schema.json) all come from here.
 * Key names and defaults are lolpop's (its PrefectOrchestrator documentation); objects are strict so a typo is
 * reported instead of silently ignored.
 *
 * Here are the step kwargs every orchestrator reads (lolpop's packaging keys, the flow's
 * identity, run parameters and waiting, stop mode). An orchestrator's own keys live in its
 * folder (`src/orchestrators/<name>/kwargs.ts`): its plugin's `kwargs` extend these
 * sections, and the deployment block is validated against the chosen orchestrator's.
 */

export const jsonObject = z.record(z.string(), z.unknown());
export const stringMap = z.record(z.string(), z.string());

/** A Prefect entrypoint, `path/to/file.py:function`. */
const FlowEntrypoint = z.string().regex(/^[^:\r\n]+\.py:[A-Za-z_][A-Za-z0-9_]*$/, 'expected path/to/file.py:function');

/** A value written into one line of the generated Dockerfile, where a line break would start another instruction. */
const DockerfileLine = z.string().regex(/^[^\r\n]*$/, 'expected one line: it is written into the Dockerfile, where a line break starts another instruction');

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
export const DockerArgs = z
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

/**
 * A duration as written (`90s`, `30m`, `1h30m`; a bare number is seconds), milliseconds
 * once loaded: parsed once, here, by the one parser, so every step reads a number and
 * a bad one fails at load time naming its key and line.
 */
export const Duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text, 'duration');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^duration: /, '') });
        return z.NEVER;
      }
    });

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
    base_image: DockerfileLine.default(DEFAULT_BASE_IMAGE),
    prefect_files: DockerfileLine.default('prefect_files/'),
    copy_files: z.array(DockerfileLine).default([]),
    // lolpop's default minus its `cli` extra: the runner never needs the CLI, whose
    // dependencies (sdv, openai) make the image far larger.
    lolpop_install_location: DockerfileLine.default(DEFAULT_LOLPOP_INSTALL),
    run_cmd: z.string().optional().describe('Defaults to "python {prefect_files}/run.py".'),
    config_file: z.string().optional().describe('Defaults to "{prefect_files}/dev.yaml".'),
    flow_kwargs: jsonObject.optional(),
    dockerfile_path: z.string().default('Dockerfile'),
    docker_image_tag: z.string().optional().describe('Supports {sha}, {short_sha}, {ref}, {run}.'),
    push_image: z.boolean().default(false),
    skip_validation: z.boolean().default(false),
    create_deployment: z.boolean().default(false),
    build_args: stringMap.optional(),
    docker_kwargs: DockerArgs.optional().describe('Extra `docker build` arguments: a list, or a dict {"network": "host"}.'),
  })
  .describe('--packaging-kwargs');

export const DeployKwargs = z
  .strictObject({
    flow_class: z.string().optional(),
    flow_entrypoint: DeployFlowEntrypoint.optional().describe("lolpop's: the flow function in flow_class; or path/to/file.py:function."),
    parameters: jsonObject.optional(),
    tags: z.array(z.string()).optional(),
    description: z.string().optional(),
    watch_files: z
      .array(z.string().min(1))
      .optional()
      .describe("changed-only: more files of this workflow's own, as globs relative to the working directory (shared code, data); a change to one deploys it."),
    // lolpop's deploy builds (and pushes) the image and writes the flow through Prefect's
    // flow.deploy(); here package does, so these are refused with that reason (see load.ts), never dropped.
    dockerfile: z.string().optional(),
    push_image: z.boolean().optional(),
    flow_kwargs: jsonObject.optional(),
  })
  .describe('--deployment-kwargs');

export const RunKwargs = z
  .strictObject({
    parameters: jsonObject.default({}),
    secret_parameters: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Run or deploy parameters whose values are secrets: delivered through the orchestrator\'s own secret store, never stored in clear.',
      ),
    idempotency_key: z.string().optional().describe('Defaults to one per workflow run attempt in GitHub Actions.'),
    wait: z.boolean().default(false),
    wait_timeout: Duration('30m').describe('How long the wait step waits for the run to end, e.g. 30m or 1h30m.'),
    poll_interval: Duration('2s').describe('How often the wait step asks for the run state.'),
  })
  .describe('--run-kwargs');

export const StopKwargs = z
  .strictObject({
    mode: z.enum(['pause', 'delete']).default('pause').describe('What stop does to the deployment: pause it, or delete it.'),
    cancel_runs: z.boolean().default(false),
    cancel_timeout: Duration('60s').describe('How long stop waits for cancelled running runs to end.'),
  })
  .describe('--stop-kwargs');

export type PackageKwargs = z.infer<typeof PackageKwargs>;
export type DeployKwargs = z.infer<typeof DeployKwargs>;
export type RunKwargs = z.infer<typeof RunKwargs>;
export type StopKwargs = z.infer<typeof StopKwargs>;

/** The step sections that inputs/flags override, keyed by their lolpop flag name. */
export const OVERRIDE_SECTIONS = {
  package: 'packaging-kwargs',
  deploy: 'deployment-kwargs',
  run: 'run-kwargs',
  stop: 'stop-kwargs',
} as const;
export type StepSection = keyof typeof OVERRIDE_SECTIONS;
export const STEP_SECTIONS = Object.keys(OVERRIDE_SECTIONS) as StepSection[];

/** The kwargs of every step section, as an orchestrator receives them. */
export interface StepKwargs {
  package: PackageKwargs;
  deploy: DeployKwargs;
  run: RunKwargs;
  stop: StopKwargs;
}

/**
 * An orchestrator's kwargs schemas, per step section (a plugin's `kwargs`): each extends the
 * common one (`DeployKwargs.extend({...})`) and stays strict, so a typo is still reported.
 * A section left out is the common one.
 */
export type KwargsSchemas<K extends StepKwargs = StepKwargs> = { [S in StepSection]?: z.ZodType<K[S]> };

/** The common schemas, per section: what an orchestrator without `kwargs` gets. */
export const COMMON_KWARGS: { [S in StepSection]: z.ZodType<StepKwargs[S]> } = {
  package: PackageKwargs,
  deploy: DeployKwargs,
  run: RunKwargs,
  stop: StopKwargs,
};

/** The section schemas an orchestrator validates with: its own where it has them, else the common ones. */
export function mergedKwargs(kwargs: KwargsSchemas | undefined): { [S in StepSection]: z.ZodType<StepKwargs[S]> } {
  return {
    package: kwargs?.package ?? COMMON_KWARGS.package,
    deploy: kwargs?.deploy ?? COMMON_KWARGS.deploy,
    run: kwargs?.run ?? COMMON_KWARGS.run,
    stop: kwargs?.stop ?? COMMON_KWARGS.stop,
  };
}

/** The keys a section schema names (an object, or one behind a transform). */
export function sectionKeys(schema: z.core.$ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return sectionKeys(schema.in);
  return [];
}

/**
 * A section that may be left out: its defaults, or, when an empty section is not valid (a
 * module's kwarg it requires), checked as an empty one so the loader says what is missing.
 */
function omittable<T>(schema: z.ZodType<T>) {
  const empty = schema.safeParse({});
  return empty.success ? schema.default(empty.data as never) : schema.prefault({} as never);
}

/** `orchestrator.deployment` for an orchestrator with these kwargs schemas. */
export function deploymentBlockFor(kwargs: KwargsSchemas | undefined) {
  const sections = mergedKwargs(kwargs);
  return z.strictObject({
    name: z.string().min(1).optional().describe('Deployment name (lolpop -n); the action input deployment-name overrides it.'),
    type: z.enum(DEPLOYMENT_TYPES).default('docker').describe('lolpop -t'),
    package: omittable(sections.package),
    deploy: omittable(sections.deploy),
    run: omittable(sections.run),
    stop: omittable(sections.stop),
  });
}

/** `orchestrator.deployment` with the common kwargs. */
export const DeploymentBlock = deploymentBlockFor(undefined);
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];

/** A loaded `orchestrator.deployment`: its name resolved, each section as the orchestrator's kwargs type it. */
export interface Deployment<K extends StepKwargs = StepKwargs> {
  name: string;
  type: DeploymentType;
  package: K['package'];
  deploy: K['deploy'];
  run: K['run'];
  stop: K['stop'];
}

const DecoratorBlock = z
  .object({ orchestrator: z.string().min(1).describe('Orchestrator class, e.g. PrefectOrchestrator') })
  .loose();

/**
 * The whole lolpop file, its `orchestrator.deployment` checked by `deployment`. lolpop's
 * own keys (pipelines, components, …) pass through untouched; both spellings lolpop has
 * used are accepted.
 */
export function lolpopFileWith<D extends z.ZodType>(deployment: D) {
  const orchestrator = z
    .object({
      config: jsonObject.default({}).describe("The orchestrator's own config (names from lolpop's PrefectOrchestrator docs)."),
      deployment,
    })
    .loose();
  return z
    .object({
      decorator: DecoratorBlock.optional(),
      decorators: DecoratorBlock.optional(),
      pipeline: jsonObject.optional(),
      pipelines: jsonObject.optional(),
      component: jsonObject.optional(),
      components: jsonObject.optional(),
      orchestrator: orchestrator.optional(),
    })
    .loose();
}

/**
 * The whole lolpop file as it is read first, before the orchestrator is known: its
 * deployment block is checked afterwards, against the chosen orchestrator's kwargs.
 */
export const LolpopFileShape = lolpopFileWith(
  z
    .unknown()
    .optional()
    .describe("The deployment: name, type and each step's kwargs, the common ones and the chosen orchestrator's own."),
);

/** The whole lolpop file, its deployment block with the common kwargs. */
export const LolpopFile = lolpopFileWith(DeploymentBlock.default(DeploymentBlock.parse({})));
export type LolpopFile = z.infer<typeof LolpopFile>;
