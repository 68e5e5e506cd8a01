import path from 'node:path';
import type { z } from 'zod';
import { ConfigError, type SourceLocation } from '../errors.js';
import { redact } from '../redaction.js';
import { chooseOrchestrator } from './choose-orchestrator.js';
import { resolveLolpopDeployKwargs } from './deploy-kwargs.js';
import { expandDocument } from './expand-document.js';
import { foreignKeyOwner, issuesToError } from './issues.js';
import { applyOverrides, type ConfigOverrides } from './overrides.js';
import { checkRunSecrets } from './run-secrets.js';
import { deploymentBlockFor, LolpopFileShape, type Deployment, type KwargsSchemas, type PackageKwargs, type StepKwargs } from './schema.js';
import { readYamlFile, toPlainValues } from './yaml-file.js';

/*
 * The config layer's entry: the shells call loadConfig. Each concern it strings together
 * has its own file: reading the YAML (yaml-file.ts), ${VAR} (expand-document.ts), inputs
 * and flags (overrides.ts), the orchestrator (choose-orchestrator.ts), messages for
 * invalid keys (issues.ts), lolpop's deploy kwargs (deploy-kwargs.ts), secret parameters
 * (run-secrets.ts).
 */

export type { ConfigOverrides } from './overrides.js';

/** How the shell that loads a config wants what the file alone cannot decide. */
export interface LoadOptions {
  /**
   * A `decorator.orchestrator` lolpop-deploy does not deploy with (`PrefectOrchestrater`),
   * no flag or input choosing another: `fail` (the action: a typo must not deploy
   * elsewhere) or `warn` and deploy with the local default (the CLI, as lolpop goes on).
   */
  unknownOrchestrator: 'fail' | 'warn';
}

export interface OrchestratorLookup {
  /** The config schema of a known orchestrator, or undefined when the name is unknown. */
  schemaFor(name: string): z.ZodType | undefined;
  /**
   * A known orchestrator's own step kwargs (its plugin's `kwargs`); undefined for one that
   * has none, or an unknown name (a user's module): then the common ones apply.
   */
  kwargsFor(name: string): KwargsSchemas | undefined;
  /**
   * The package kwargs an orchestrator's parsed `orchestrator.config` supplies where the
   * deployment leaves them unset (its plugin's packageDefaults); {} for none.
   */
  packageDefaultsFor(name: string, config: unknown): Partial<PackageKwargs>;
  /** The names users may write, for the error message. */
  known(): string[];
  /** True for a user's own module path or package (validated when loaded). */
  isModuleReference(name: string): boolean;
  /**
   * This lookup with a user's module imported (relative to `workdir`): schemaFor and
   * kwargsFor then answer for it with the module's own schemas.
   */
  withModule?(name: string, workdir: string): Promise<OrchestratorLookup>;
}

/**
 * A loaded config. `K`: the step kwargs its deployment holds. Loading checks the deployment
 * against the chosen orchestrator's kwargs (`lookup.kwargsFor(orchestrator)`), which only
 * that orchestrator knows statically: a LoadedConfig holds the common ones, and `loadedAs`
 * gives the orchestrator's own view once it is checked that its schemas were the ones used.
 */
export interface LoadedConfig<K extends StepKwargs = StepKwargs> {
  file: string;
  orchestrator: string;
  orchestratorConfig: unknown;
  deployment: Deployment<K>;
  /** The kwargs schemas the deployment was checked with (the orchestrator's plugin's; undefined: the common ones). */
  kwargs: KwargsSchemas | undefined;
  /** Values of secret `${VAR}` references (src/config/expand-env.ts): mask them everywhere. */
  secrets: string[];
  /** What the user should fix or know is unsafe (a secret too short to be masked, an unknown orchestrator). */
  warnings: string[];
}

/** lolpop's `-n` default (`lolpop deployment build/stop`). */
export const DEFAULT_DEPLOYMENT_NAME = 'lolpop-deployment';

/**
 * Reads the lolpop YAML, expands `${VAR}`, applies overrides and validates it.
 * Every failure is a ConfigError naming file:line:col, the key and what was
 * expected, raised before anything is built or deployed. A user's orchestrator module
 * (only ever chosen by a flag or input: lolpop reads decorator.orchestrator as a Python
 * class) is imported first, relative to `workdir`, so that its own schemas check the file.
 */
export async function loadConfig(
  file: string,
  overrides: ConfigOverrides,
  lookup: OrchestratorLookup,
  env: NodeJS.ProcessEnv,
  workdir: string,
  options: LoadOptions,
): Promise<LoadedConfig> {
  const chosen = overrides.orchestrator?.name;
  const withModule = chosen && lookup.isModuleReference(chosen) && lookup.withModule ? await lookup.withModule(chosen, workdir) : lookup;
  return loadConfigSync(file, overrides, withModule, env, workdir, options);
}

/**
 * loadConfig without importing a module: a module then is checked with the common kwargs
 * and its config as written. The file must stay inside `workdir` (default: its own folder)
 * once links are followed.
 */
export function loadConfigSync(
  file: string,
  overrides: ConfigOverrides,
  lookup: OrchestratorLookup,
  env: NodeJS.ProcessEnv,
  workdir = path.dirname(path.resolve(file)),
  options: LoadOptions = { unknownOrchestrator: 'fail' },
): LoadedConfig {
  const shown = path.relative(process.cwd(), file) || file;
  const expanded: string[] = [];
  try {
    return load(file, shown, workdir, overrides, lookup, env, options, expanded);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // An error may quote a value that came from ${VAR} (e.g. an unknown orchestrator
    // name): nothing has registered those secrets yet, so the error hides them itself.
    error.message = redact(error.message, expanded);
    error.locations = locationsIn(error.message, shown, path.resolve(file));
    throw error;
  }
}

/** The lines of a message that start with `<shown>:line:col: `, as locations in `file`. */
function locationsIn(message: string, shown: string, file: string): SourceLocation[] {
  const out: SourceLocation[] = [];
  for (const line of message.split('\n')) {
    if (!line.startsWith(`${shown}:`)) continue;
    const match = /^(\d+):(\d+): /.exec(line.slice(shown.length + 1));
    if (match) out.push({ file, line: Number(match[1]), col: Number(match[2]), message: line });
  }
  return out;
}

/** `expanded` receives the ${VAR} values as soon as they are known, for the caller's redaction. */
function load(
  file: string,
  shown: string,
  workdir: string,
  overrides: ConfigOverrides,
  lookup: OrchestratorLookup,
  env: NodeJS.ProcessEnv,
  options: LoadOptions,
  expanded: string[],
): LoadedConfig {
  const yaml = readYamlFile(file, shown, workdir);
  const { at } = yaml;
  const { secrets, warnings } = expandDocument(yaml.doc, env, at);
  expanded.push(...secrets);
  const raw = (toPlainValues(yaml, shown) ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${shown}:1:1: expected a mapping of keys (decorator, orchestrator, …), got ${typeof raw}`);
  }
  const overridden = applyOverrides(raw, overrides);

  // The deployment block is checked once the orchestrator is known: against its kwargs.
  const parsed = LolpopFileShape.safeParse(overridden.value);
  if (!parsed.success) throw issuesToError(parsed.error.issues, { at, fromInput: overridden.fromInput });
  const config = parsed.data;

  if (config.decorator && config.decorators) {
    throw new ConfigError(`${at(['decorators'])}: decorators: use either decorator or decorators, not both`);
  }
  const decorated = { key: config.decorators ? 'decorators' : 'decorator', name: (config.decorator ?? config.decorators)?.orchestrator } as const;
  const name = chooseOrchestrator(decorated, overrides.orchestrator, lookup, options, at, warnings);
  const chosenBy = overrides.orchestrator && decorated.name !== name ? overrides.orchestrator.label : undefined;

  const kwargs = lookup.kwargsFor(name);
  const deploymentBlock = deploymentBlockFor(kwargs);
  const deploymentResult = deploymentBlock.safeParse(config.orchestrator?.deployment ?? {});
  if (!deploymentResult.success) {
    const root = ['orchestrator', 'deployment'];
    const prefixed = deploymentResult.error.issues.map((i) => ({ ...i, path: [...root, ...i.path] }));
    throw issuesToError(prefixed, { at, fromInput: overridden.fromInput, schema: { root, schema: deploymentBlock }, foreign: foreignKeyOwner(name, lookup, chosenBy) });
  }
  const deployment = deploymentResult.data;
  checkRunSecrets(deployment, secrets, name, lookup, (p) => overridden.fromInput.get(p.join('.')) ?? at(p));

  const schema = lookup.schemaFor(name);
  const orchestratorBlock = config.orchestrator ?? { config: {} };
  let orchestratorConfig: unknown = orchestratorBlock.config;
  if (schema) {
    const result = schema.safeParse(orchestratorBlock.config ?? {});
    if (!result.success) {
      const root = ['orchestrator', 'config'];
      const prefixed = result.error.issues.map((i) => ({ ...i, path: [...root, ...i.path] }));
      const error = issuesToError(prefixed, { at, fromInput: new Map(), schema: { root, schema } });
      if (chosenBy) error.message += ` (checked as ${name}'s config, chosen by ${chosenBy})`;
      throw error;
    }
    orchestratorConfig = result.data;
  }

  const fullName = (deployment.name ?? DEFAULT_DEPLOYMENT_NAME) + (overrides.deploymentNameSuffix ?? '');
  // Resolved here, once, so the generated entrypoint and every flow-name lookup agree.
  const pkg = withDefaults(deployment.package, lookup.packageDefaultsFor(name, orchestratorConfig));
  const deploy = resolveLolpopDeployKwargs(pkg, deployment.deploy, (key) => at(['orchestrator', 'deployment', 'deploy', key]));
  return {
    file,
    orchestrator: name,
    orchestratorConfig,
    deployment: { ...deployment, package: pkg, deploy, name: fullName },
    kwargs,
    secrets,
    warnings,
  };
}

/** `pkg` with each key it leaves unset taken from `defaults`. */
function withDefaults<P extends PackageKwargs>(pkg: P, defaults: Partial<PackageKwargs>): P {
  const filled: Record<string, unknown> = { ...pkg };
  for (const [key, value] of Object.entries(defaults)) filled[key] ??= value;
  return filled as P;
}

/**
 * The config as the orchestrator whose kwargs schemas are `kwargs` reads it (e.g. a
 * PrefectOrchestrator's deployment with its PrefectDeployKwargs). Checked: the config
 * must have been loaded with exactly these schemas, else this throws.
 */
export function loadedAs<K extends StepKwargs>(config: LoadedConfig, kwargs: KwargsSchemas<K>): LoadedConfig<K> {
  if (config.kwargs !== kwargs) {
    throw new Error(`the config ${config.file} was loaded for ${config.orchestrator}, whose kwargs are not the ones asked for`);
  }
  // Sound: load parsed each section with these very schemas, whose output is K's.
  return config as LoadedConfig<K>;
}
