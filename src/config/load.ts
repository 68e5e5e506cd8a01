import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isPair, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type SourceLocation } from '../errors.js';
import { readProjectFile, TEXT_FILE_MAX_BYTES } from '../project-files.js';
import { redact } from '../redaction.js';
import { expandEnv } from './expand-env.js';
import { formatPath, locate, type ConfigPath } from './locate.js';
import { entrypointFor } from '../packaging/files.js';
import { checkSecretParameters } from '../secret-parameters.js';
import {
  deploymentBlockFor,
  LolpopFileShape,
  mergedKwargs,
  OVERRIDE_SECTIONS,
  sectionKeys,
  STEP_SECTIONS,
  type DeployKwargs,
  type Deployment,
  type KwargsSchemas,
  type PackageKwargs,
  type StepKwargs,
  type StepSection,
} from './schema.js';

/** Values that replace the file's, as the lolpop CLI flags and the action inputs do. */
export interface ConfigOverrides {
  deploymentName?: string;
  deploymentType?: string;
  /** Appended to the deployment's name (preview deployments: `-pr-7`). */
  deploymentNameSuffix?: string;
  /** Where the overrides came from, for error messages: action inputs (default) or CLI flags. */
  source?: 'input' | 'flag';
  /**
   * The orchestrator to deploy with, as lolpop's CLI names it (--packager/--deployer) or
   * the action's `orchestrator` input; `label` names that flag or input in errors.
   */
  orchestrator?: { name: string; label: string };
  /**
   * Per section, the parsed JSON of `--packaging-kwargs` etc.; merged key by key. As in
   * lolpop, every key of `--run-kwargs` is a flow-run parameter: they are merged over
   * `run.parameters`.
   */
  kwargs?: Partial<Record<StepSection, Record<string, unknown>>>;
  /** Run settings from their own flags/inputs (--wait, --wait-timeout), merged over the `run` block. */
  runSettings?: Record<string, unknown>;
}

export interface OrchestratorLookup {
  /** The config schema of a known orchestrator, or undefined when the name is unknown. */
  schemaFor(name: string): z.ZodType | undefined;
  /**
   * A known orchestrator's own step kwargs (its plugin's `kwargs`); undefined for one that
   * has none, or an unknown name (a user's module): then the common ones apply.
   */
  kwargsFor(name: string): KwargsSchemas | undefined;
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
  /** Decisions the user should hear about (e.g. which orchestrator was chosen, and why). */
  notices: string[];
  /** What the user should fix or know is unsafe (a secret too short to be masked). */
  warnings: string[];
}

export const DEFAULT_ORCHESTRATOR = 'LocalOrchestrator';
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
): Promise<LoadedConfig> {
  const chosen = overrides.orchestrator?.name;
  const withModule = chosen && lookup.isModuleReference(chosen) && lookup.withModule ? await lookup.withModule(chosen, workdir) : lookup;
  return loadConfigSync(file, overrides, withModule, env, workdir);
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
): LoadedConfig {
  const shown = path.relative(process.cwd(), file) || file;
  const expanded: string[] = [];
  try {
    return load(file, shown, workdir, overrides, lookup, env, expanded);
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
  expanded: string[],
): LoadedConfig {
  if (!existsSync(file)) {
    throw new ConfigError(`Config file ${shown} not found (looked for ${path.resolve(file)}). Set the config input or -c.`);
  }
  if (statSync(file).isDirectory()) {
    throw new ConfigError(`Config file ${shown} is a directory; give the file in it, e.g. ${path.join(shown, 'lolpop.yaml')}`);
  }
  // Bounded, a regular file, inside the project: a lolpop.yaml -> /dev/zero fails here at once.
  const bytes = readProjectFile({ root: workdir, file: path.resolve(file), what: `config file ${shown}` }, TEXT_FILE_MAX_BYTES);
  if (bytes === undefined) throw new ConfigError(`Config file ${shown} not found (looked for ${path.resolve(file)}). Set the config input or -c.`);
  const text = bytes.toString('utf8');
  const counter = new LineCounter();
  // Duplicate keys are checked below in linear time: yaml's own uniqueKeys check compares
  // every key with every other one (50,000 keys took 17 s).
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = counter.linePos(first.pos[0]);
    const where = `${shown}:${pos.line}:${pos.col}`;
    throw new ConfigError(`${where}: YAML syntax error: ${first.message.split('\n')[0]}`);
  }

  rejectDuplicateKeys(doc, counter, shown);

  const at = (p: ConfigPath): string => {
    const pos = locate(doc, counter, p);
    return pos ? `${shown}:${pos.line}:${pos.col}` : shown;
  };

  const { secrets, warnings } = expandDocument(doc, env, at);
  expanded.push(...secrets);
  const raw = (toJS(doc, counter, shown) ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${shown}:1:1: expected a mapping of keys (decorator, orchestrator, …), got ${typeof raw}`);
  }
  const overridden = applyOverrides(raw, overrides);

  // The deployment block is checked once the orchestrator is known: against its kwargs.
  const parsed = LolpopFileShape.safeParse(overridden.value);
  if (!parsed.success) throw issuesToError(parsed.error.issues, at, overridden.fromInput);
  const config = parsed.data;

  if (config.decorator && config.decorators) {
    throw new ConfigError(`${at(['decorators'])}: decorators: use either decorator or decorators, not both`);
  }
  const notices: string[] = [];
  const name = chooseOrchestrator(config, overrides.orchestrator, lookup, at, notices);
  const decorated = (config.decorator ?? config.decorators)?.orchestrator;
  const chosenBy = overrides.orchestrator && decorated !== name ? overrides.orchestrator.label : undefined;

  const kwargs = lookup.kwargsFor(name);
  const deploymentResult = deploymentBlockFor(kwargs).safeParse(config.orchestrator?.deployment ?? {});
  if (!deploymentResult.success) {
    const prefixed = deploymentResult.error.issues.map((i) => ({ ...i, path: ['orchestrator', 'deployment', ...i.path] }));
    throw issuesToError(prefixed, at, overridden.fromInput, foreignKeyOwner(name, lookup, chosenBy));
  }
  const deployment = deploymentResult.data;
  checkRunSecrets(deployment, secrets, name, lookup, (p) => overridden.fromInput.get(p.join('.')) ?? at(p));

  const schema = lookup.schemaFor(name);
  const orchestratorBlock = config.orchestrator ?? { config: {} };
  let orchestratorConfig: unknown = orchestratorBlock.config;
  if (schema) {
    const result = schema.safeParse(orchestratorBlock.config ?? {});
    if (!result.success) {
      const prefixed = result.error.issues.map((i) => ({ ...i, path: ['orchestrator', 'config', ...i.path] }));
      const error = issuesToError(prefixed, at, new Map());
      if (chosenBy) error.message += ` (checked as ${name}'s config, chosen by ${chosenBy})`;
      throw error;
    }
    orchestratorConfig = result.data;
  }

  const fullName = (deployment.name ?? DEFAULT_DEPLOYMENT_NAME) + (overrides.deploymentNameSuffix ?? '');
  // lolpop puts @flow(...) arguments in orchestrator.config.flow_kwargs (its PrefectOrchestrator docs). Resolve
  // them here, once, so the generated entrypoint and every flow-name lookup agree.
  const configFlowKwargs = asObject((orchestratorConfig as { flow_kwargs?: unknown } | undefined)?.flow_kwargs);
  const pkg = { ...deployment.package, flow_kwargs: deployment.package.flow_kwargs ?? configFlowKwargs };
  const deploy = resolveLolpopDeployKwargs(pkg, deployment.deploy, (key) => at(['orchestrator', 'deployment', 'deploy', key]));
  return {
    file,
    orchestrator: name,
    orchestratorConfig,
    deployment: { ...deployment, package: pkg, deploy, name: fullName },
    kwargs,
    secrets,
    notices,
    warnings,
  };
}

/**
 * Secrets among the parameters: only in run.secret_parameters, and those only for a
 * built-in orchestrator (each delivers them through its own secret store; a user's module
 * would get them as plain parameters).
 */
function checkRunSecrets(
  deployment: { deploy: DeployKwargs; run: { parameters: Record<string, unknown>; secret_parameters?: string[] } },
  secrets: string[],
  orchestrator: string,
  lookup: OrchestratorLookup,
  at: (p: ConfigPath) => string,
): void {
  const names = deployment.run.secret_parameters ?? [];
  const key = ['orchestrator', 'deployment', 'run', 'secret_parameters'];
  if (names.length > 0 && lookup.isModuleReference(orchestrator)) {
    throw new ConfigError(
      `${at(key)}: run.secret_parameters: ${orchestrator} is a module of yours, and lolpop-deploy delivers secret parameters only through ` +
        `its built-in orchestrators' secret stores; remove them and hand the secret to your module another way`,
    );
  }
  checkSecretParameters({ deploy: deployment.deploy.parameters, run: deployment.run.parameters }, names, secrets, (section, name) =>
    at(name === undefined ? key : ['orchestrator', 'deployment', section, 'parameters', name]),
  );
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

/**
 * Which orchestrator deploys, in lolpop's order: the one named on the command line
 * (--packager/--deployer) or by the action's input, then `decorator.orchestrator` when
 * it is one we know, then the local default. `decorator.orchestrator` is lolpop's key:
 * lolpop loads it as a Python class when it builds the runner, so only lolpop's class
 * names belong there; a module of ours (./my_orchestrator.mjs) is chosen by flag or input.
 */
function chooseOrchestrator(
  config: z.infer<typeof LolpopFileShape>,
  chosen: ConfigOverrides['orchestrator'],
  lookup: OrchestratorLookup,
  at: (p: ConfigPath) => string,
  notices: string[],
): string {
  const decoratorKey = config.decorators ? 'decorators' : 'decorator';
  const decorated = (config.decorator ?? config.decorators)?.orchestrator;
  if (decorated !== undefined && lookup.isModuleReference(decorated)) {
    throw new ConfigError(
      `${at([decoratorKey, 'orchestrator'])}: ${decoratorKey}.orchestrator: '${decorated}' is a module path, but lolpop loads this key ` +
        'as a Python class when it builds the runner (a name it cannot load crashes the runner); ' +
        'choose your own orchestrator module with --orchestrator/--deployer/--packager or the orchestrator input',
    );
  }
  if (chosen) {
    if (!lookup.schemaFor(chosen.name) && !lookup.isModuleReference(chosen.name)) {
      throw new ConfigError(
        `${chosen.label}: unknown orchestrator '${chosen.name}'; known: ${lookup.known().join(', ')} (or a module path such as ./my_orchestrator.mjs)`,
      );
    }
    return chosen.name;
  }
  if (decorated === undefined) return DEFAULT_ORCHESTRATOR;
  if (lookup.schemaFor(decorated)) return decorated;
  notices.push(
    `${decoratorKey}.orchestrator is ${decorated}, which lolpop-deploy does not deploy with (known: ${lookup.known().join(', ')}); ` +
      `using ${DEFAULT_ORCHESTRATOR}. Choose another with --deployer/--packager or the orchestrator input.`,
  );
  return DEFAULT_ORCHESTRATOR;
}

/**
 * lolpop's deploy kwargs in the form every step reads: `flow_class` (a module,
 * `prefect_files.run`) + `flow_entrypoint` (a function in it) become a Prefect entrypoint
 * `prefect_files/run.py:prefect_entrypoint`; when that is the generated wrapper, nothing is
 * set (the wrapper is the default). Keys lolpop's deploy reads that belong to the package
 * step here are refused with where they belong.
 */
function resolveLolpopDeployKwargs<D extends DeployKwargs>(pkg: PackageKwargs, deploy: D, at: (key: string) => string): D {
  const resolved: D = { ...deploy };
  const refused: Array<[keyof DeployKwargs, string]> = [
    ['dockerfile', 'lolpop-deploy builds the image in the package step: set package.dockerfile_path'],
    ['push_image', 'lolpop-deploy pushes the image in the package step: set package.push_image'],
    ['flow_kwargs', "the flow's @flow(...) arguments are written into the generated entrypoint: set package.flow_kwargs (or orchestrator.config.flow_kwargs)"],
  ];
  for (const [key, reason] of refused) {
    if (deploy[key] !== undefined) throw new ConfigError(`${at(key)}: deploy.${key}: ${reason}`);
  }
  const entry = deploy.flow_entrypoint;
  if (deploy.flow_class !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(deploy.flow_class)) {
      throw new ConfigError(`${at('flow_class')}: deploy.flow_class: '${deploy.flow_class}' is not a Python module path; expected e.g. prefect_files.run`);
    }
    if (entry === undefined || entry.includes(':')) {
      throw new ConfigError(
        `${at('flow_class')}: deploy.flow_class: needs flow_entrypoint, the name of the flow function in ${deploy.flow_class} (e.g. prefect_entrypoint)`,
      );
    }
    const candidate = `${deploy.flow_class.replace(/\./g, '/')}.py:${entry}`;
    resolved.flow_entrypoint = candidate === entrypointFor({ ...pkg, flow_entrypoint: undefined }) ? undefined : candidate;
  } else if (entry !== undefined && !entry.includes(':')) {
    throw new ConfigError(
      `${at('flow_entrypoint')}: deploy.flow_entrypoint: '${entry}' is a function name; give flow_class (its module, e.g. prefect_files.run) too, or path/to/file.py:${entry}`,
    );
  }
  return resolved;
}

/**
 * For a key the chosen orchestrator does not read: which other known orchestrator's it
 * is, said as such (`orchestrator.deployment.deploy.work_pool: PrefectOrchestrator's key;
 * AirflowOrchestrator does not read it`), never taken for a typo nor silently ignored.
 */
function foreignKeyOwner(chosen: string, lookup: OrchestratorLookup, chosenBy: string | undefined): ForeignKeyMessage {
  return (section, key) => {
    const owners = lookup
      .known()
      .filter((other) => other !== chosen && sectionKeys(mergedKwargs(lookup.kwargsFor(other))[section]).includes(key));
    if (owners.length === 0) return undefined;
    const by = chosenBy ? ` (chosen by ${chosenBy})` : '';
    return `${owners.map((o) => `${o}'s`).join(' and ')} key; ${chosen}${by} does not read it`;
  };
}

/** A message for an unknown key of a step section when another orchestrator reads it, else undefined. */
type ForeignKeyMessage = (section: StepSection, key: string) => string | undefined;

function expandDocument(doc: Document, env: NodeJS.ProcessEnv, at: (p: ConfigPath) => string): { secrets: string[]; warnings: string[] } {
  const secrets: string[] = [];
  const warnings: string[] = [];
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const expansion = expandEnv(node.value, env);
      if (expansion.missing.length > 0) {
        const keyPath = ancestors
          .filter(isPair)
          .map((pair) => (isScalar(pair.key) ? String(pair.key.value) : ''));
        throw new ConfigError(
          `${at(keyPath)}: ${formatPath(keyPath)}: environment variable ${expansion.missing[0]} is not set ` +
            `(referenced as \${${expansion.missing[0]}})`,
        );
      }
      secrets.push(...expansion.secrets);
      warnings.push(...expansion.warnings.filter((w) => !warnings.includes(w)));
      node.value = expansion.value;
    },
  });
  return { secrets, warnings };
}

interface Overridden {
  value: Record<string, unknown>;
  /** Config paths (joined by '.') whose value came from an input, with the input's name. */
  fromInput: Map<string, string>;
}

function applyOverrides(raw: Record<string, unknown>, overrides: ConfigOverrides): Overridden {
  const fromInput = new Map<string, string>();
  const orchestrator = { ...(asObject(raw.orchestrator) ?? {}) };
  const deployment = { ...(asObject(orchestrator.deployment) ?? {}) };
  if (overrides.deploymentName) {
    deployment.name = overrides.deploymentName;
    fromInput.set('orchestrator.deployment.name', 'deployment-name');
  }
  if (overrides.deploymentType) {
    deployment.type = overrides.deploymentType;
    fromInput.set('orchestrator.deployment.type', 'deployment-type');
  }
  for (const section of Object.keys(OVERRIDE_SECTIONS) as StepSection[]) {
    const values = overrides.kwargs?.[section];
    if (!values) continue;
    const block = { ...(asObject(deployment[section]) ?? {}) };
    const parameters = section === 'run';
    const target = parameters ? { ...(asObject(block.parameters) ?? {}) } : block;
    Object.assign(target, values);
    if (parameters) block.parameters = target;
    deployment[section] = block;
    for (const key of Object.keys(values)) {
      const where = parameters ? `run.parameters.${key}` : `${section}.${key}`;
      fromInput.set(`orchestrator.deployment.${where}`, OVERRIDE_SECTIONS[section]);
    }
  }
  if (overrides.runSettings) {
    deployment.run = { ...(asObject(deployment.run) ?? {}), ...overrides.runSettings };
    for (const key of Object.keys(overrides.runSettings)) {
      fromInput.set(`orchestrator.deployment.run.${key}`, key.replace(/_/g, '-'));
    }
  }
  orchestrator.deployment = deployment;
  // Name them as the user typed them: `input deployment-kwargs` or `flag --deployment-kwargs`.
  const label = (name: string) => (overrides.source === 'flag' ? `flag --${name}` : `input ${name}`);
  for (const [key, name] of fromInput) fromInput.set(key, label(name));
  return { value: { ...raw, orchestrator }, fromInput };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function issuesToError(
  issues: ReadonlyArray<z.core.$ZodIssue>,
  at: (p: ConfigPath) => string,
  fromInput: Map<string, string>,
  foreign?: ForeignKeyMessage,
): ConfigError {
  const lines: string[] = [];
  const line = (issuePath: Array<string | number>, message: string) => {
    const key = formatPath(issuePath);
    // The input that set this key, or one of its parents (a nested object from a flag).
    const input = issuePath.map((_, i) => fromInput.get(issuePath.slice(0, issuePath.length - i).join('.'))).find(Boolean);
    const where = input ?? at(issuePath);
    lines.push(`${where}: ${key}: ${message.replace(/^Invalid input: /, '')}`);
  };
  for (const issue of issues.slice(0, 5)) {
    const issuePath = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code !== 'unrecognized_keys') {
      line(issuePath, issue.message);
      continue;
    }
    // A step section's key that another orchestrator reads: said so, one line per key.
    const section = stepSectionOf(issuePath);
    const owned = new Map<string, string>();
    for (const key of issue.keys) {
      const message = section && foreign?.(section, key);
      if (message) owned.set(key, message);
    }
    for (const [key, message] of owned) line([...issuePath, key], message);
    const unknown = issue.keys.filter((k) => !owned.has(k));
    if (unknown.length > 0) line([...issuePath, unknown[0]!], `unknown key${unknown.length > 1 ? 's ' + unknown.join(', ') : ''}; check its spelling`);
  }
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return new ConfigError(lines.join('\n') + more);
}

/** `deploy` for the path orchestrator.deployment.deploy, else undefined. */
function stepSectionOf(issuePath: ReadonlyArray<string | number>): StepSection | undefined {
  if (issuePath.length !== 3 || issuePath[0] !== 'orchestrator' || issuePath[1] !== 'deployment') return undefined;
  return STEP_SECTIONS.find((s) => s === issuePath[2]);
}

/**
 * The document as plain values. yaml refuses an alias that points nowhere or an
 * alias bomb (more aliases than maxAliasCount: its resource-exhaustion guard): said
 * with the position of the first alias, like every other config error.
 */
function toJS(doc: Document, counter: LineCounter, shown: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    let where = `${shown}:1:1`;
    visit(doc, {
      Alias(_key, node) {
        if (!node.range) return undefined;
        const pos = counter.linePos(node.range[0]);
        where = `${shown}:${pos.line}:${pos.col}`;
        return visit.BREAK;
      },
    });
    throw new ConfigError(`${where}: YAML aliases: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** A key given twice in one mapping is an error at the second one (the first would be silently lost). */
function rejectDuplicateKeys(doc: Document, counter: LineCounter, shown: string): void {
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const item of map.items) {
        if (!isScalar(item.key)) continue;
        const key = String(item.key.value);
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const pos = item.key.range ? counter.linePos(item.key.range[0]) : { line: 1, col: 1 };
        throw new ConfigError(`${shown}:${pos.line}:${pos.col}: YAML syntax error: the key '${key}' is given twice in the same mapping`);
      }
      return undefined;
    },
  });
}
