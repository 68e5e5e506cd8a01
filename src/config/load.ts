import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isPair, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { expandEnv } from './expand-env.js';
import { formatPath, locate, type ConfigPath } from './locate.js';
import { LolpopFile, OVERRIDE_SECTIONS, type DeploymentBlock, type StepSection } from './schema.js';

/** Values that replace the file's, as the lolpop CLI flags and the action inputs do. */
export interface ConfigOverrides {
  deploymentName?: string;
  deploymentType?: string;
  /** Appended to the deployment's name (preview deployments: `-pr-7`). */
  deploymentNameSuffix?: string;
  /** Where the overrides came from, for error messages: action inputs (default) or CLI flags. */
  source?: 'input' | 'flag';
  /** Per section, the parsed JSON of `--packaging-kwargs` etc.; merged key by key. */
  kwargs?: Partial<Record<StepSection, Record<string, unknown>>>;
}

export interface OrchestratorLookup {
  /** The config schema of a known orchestrator, or undefined when the name is unknown. */
  schemaFor(name: string): z.ZodType | undefined;
  /** The names users may write, for the error message. */
  known(): string[];
  /** True for a user's own module path or package (validated when loaded). */
  isModuleReference(name: string): boolean;
}

export interface LoadedConfig {
  file: string;
  orchestrator: string;
  orchestratorConfig: unknown;
  deployment: DeploymentBlock & { name: string };
  /** Values expanded from `${VAR}` references: mask them everywhere. */
  secrets: string[];
}

export const DEFAULT_ORCHESTRATOR = 'LocalOrchestrator';

/**
 * Reads the lolpop YAML, expands `${VAR}`, applies overrides and validates it.
 * Every failure is a ConfigError naming file:line:col, the key and what was
 * expected, raised before anything is built or deployed.
 */
export function loadConfig(
  file: string,
  overrides: ConfigOverrides,
  lookup: OrchestratorLookup,
  env: NodeJS.ProcessEnv,
): LoadedConfig {
  const shown = path.relative(process.cwd(), file) || file;
  if (!existsSync(file)) {
    throw new ConfigError(`Config file ${shown} not found (looked for ${path.resolve(file)}). Set the config input or -c.`);
  }
  const text = readFileSync(file, 'utf8');
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = counter.linePos(first.pos[0]);
    const where = `${shown}:${pos.line}:${pos.col}`;
    throw new ConfigError(`${where}: YAML syntax error: ${first.message.split('\n')[0]}`);
  }

  const at = (p: ConfigPath): string => {
    const pos = locate(doc, counter, p);
    return pos ? `${shown}:${pos.line}:${pos.col}` : shown;
  };

  const secrets = expandDocument(doc, env, at);
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${shown}:1:1: expected a mapping of keys (decorator, orchestrator, …), got ${typeof raw}`);
  }
  const overridden = applyOverrides(raw, overrides);

  const parsed = LolpopFile.safeParse(overridden.value);
  if (!parsed.success) throw issuesToError(parsed.error.issues, at, overridden.fromInput);
  const config = parsed.data;

  if (config.decorator && config.decorators) {
    throw new ConfigError(`${at(['decorators'])}: decorators: use either decorator or decorators, not both`);
  }
  const decoratorKey = config.decorators ? 'decorators' : 'decorator';
  const name = (config.decorator ?? config.decorators)?.orchestrator ?? DEFAULT_ORCHESTRATOR;
  const schema = lookup.schemaFor(name);
  if (!schema && !lookup.isModuleReference(name)) {
    throw new ConfigError(
      `${at([decoratorKey, 'orchestrator'])}: ${decoratorKey}.orchestrator: unknown orchestrator '${name}'; ` +
        `known: ${lookup.known().join(', ')} (or a module path such as ./my_orchestrator.js)`,
    );
  }
  const orchestratorBlock = config.orchestrator ?? { config: {}, deployment: undefined };
  let orchestratorConfig: unknown = orchestratorBlock.config;
  if (schema) {
    const result = schema.safeParse(orchestratorBlock.config ?? {});
    if (!result.success) {
      const prefixed = result.error.issues.map((i) => ({ ...i, path: ['orchestrator', 'config', ...i.path] }));
      throw issuesToError(prefixed, at, new Map());
    }
    orchestratorConfig = result.data;
  }

  const deployment = config.orchestrator?.deployment;
  if (!deployment?.name) {
    throw new ConfigError(
      `${at(['orchestrator', 'deployment', 'name'])}: orchestrator.deployment.name: required, the deployment's name ` +
        `(or pass the deployment-name input / -n)`,
    );
  }
  const fullName = deployment.name + (overrides.deploymentNameSuffix ?? '');
  // lolpop puts @flow(...) arguments in orchestrator.config.flow_kwargs (seed 003). Resolve
  // them here, once, so the generated entrypoint and every flow-name lookup agree.
  const configFlowKwargs = asObject((orchestratorConfig as { flow_kwargs?: unknown } | undefined)?.flow_kwargs);
  const pkg = { ...deployment.package, flow_kwargs: deployment.package.flow_kwargs ?? configFlowKwargs };
  return { file, orchestrator: name, orchestratorConfig, deployment: { ...deployment, package: pkg, name: fullName }, secrets };
}

function expandDocument(doc: Document, env: NodeJS.ProcessEnv, at: (p: ConfigPath) => string): string[] {
  const secrets: string[] = [];
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
      node.value = expansion.value;
    },
  });
  return secrets;
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
    deployment[section] = { ...(asObject(deployment[section]) ?? {}), ...values };
    for (const key of Object.keys(values)) {
      fromInput.set(`orchestrator.deployment.${section}.${key}`, OVERRIDE_SECTIONS[section]);
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
): ConfigError {
  const lines = issues.slice(0, 5).map((issue) => {
    let issuePath = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      issuePath = [...issuePath, issue.keys[0]!];
      message = `unknown key${issue.keys.length > 1 ? 's ' + issue.keys.join(', ') : ''}; check its spelling`;
    }
    const key = formatPath(issuePath);
    const input = fromInput.get(issuePath.join('.'));
    const where = input ?? at(issuePath);
    return `${where}: ${key}: ${message.replace(/^Invalid input: /, '')}`;
  });
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return new ConfigError(lines.join('\n') + more);
}
