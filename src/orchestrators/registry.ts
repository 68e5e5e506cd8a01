import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { OrchestratorLookup } from '../config/load.js';
import { airflowPlugin } from './airflow/plugin.js';
import { localPlugin } from './local/plugin.js';
import { checkedModuleOrchestrator } from './module-results.js';
import type { Orchestrator, OrchestratorContext, OrchestratorPlugin } from './orchestrator.js';
import { prefectPlugin } from './prefect/plugin.js';

/**
 * A built-in orchestrator as the registry keeps it: what loading a config needs (name,
 * description, config and kwargs schemas) and create(). The implementations are imported
 * statically: one dynamic import() per orchestrator (its own chunk in the bundle) was
 * measured at 2–3 ms more to the action's first request under Node 24 (loading an ESM
 * chunk costs more than parsing the other orchestrators' minified code); README, Speed.
 * create() is async so that one may become lazy again without touching the callers.
 */
export type BuiltInOrchestrator = Omit<OrchestratorPlugin, 'create'> & {
  create(config: unknown, context: OrchestratorContext): Promise<ReturnType<OrchestratorPlugin['create']>>;
};

/** The one place that knows every built-in orchestrator. */
const BUILT_IN: Record<string, BuiltInOrchestrator> = {
  [prefectPlugin.name]: prefectPlugin,
  [localPlugin.name]: localPlugin,
  [airflowPlugin.name]: airflowPlugin,
};

export function knownOrchestrators(): string[] {
  return Object.keys(BUILT_IN).sort();
}

/** A name with a slash or a JS extension is a module of the user's (ZenML's "flavor"). */
export function isModuleReference(name: string): boolean {
  return /[/\\]|\.(m?js|cjs)$/.test(name) || name.startsWith('@');
}

export const orchestratorLookup: OrchestratorLookup = {
  schemaFor: (name) => BUILT_IN[name]?.configSchema,
  kwargsFor: (name) => BUILT_IN[name]?.kwargs,
  known: knownOrchestrators,
  isModuleReference,
};

/**
 * The orchestrator for a config's name: a built-in, or the default export (or
 * `plugin` export) of the user's module, which must be an OrchestratorPlugin.
 */
export async function createOrchestrator(name: string, config: unknown, context: OrchestratorContext): Promise<Orchestrator> {
  const builtIn = BUILT_IN[name];
  if (builtIn) return builtIn.create(config, context);
  const plugin = await importPlugin(name, context.workdir);
  const parsed = plugin.configSchema.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`orchestrator.config.${issue.path.join('.')}: ${issue.message} (checked by ${name})`);
  }
  // A module in plain JavaScript may create its orchestrator asynchronously.
  const created = await Promise.resolve(plugin.create(parsed.data, context) as Orchestrator | Promise<Orchestrator>);
  return checkedModuleOrchestrator(name, created);
}

/** A config schema that accepts anything: a plugin without configSchema validates its own config. */
const PASSTHROUGH = z.unknown();

/**
 * Imports a user's orchestrator module. Only `name` and `create` are required, so a
 * plain .mjs plugin needs no dependencies; without a `configSchema` (anything with
 * zod's `safeParse`), `orchestrator.config` is passed to create() as written.
 */
async function importPlugin(name: string, workdir: string): Promise<OrchestratorPlugin> {
  const specifier = name.startsWith('.') || path.isAbsolute(name) ? pathToFileURL(path.resolve(workdir, name)).href : name;
  let mod: Record<string, unknown>;
  try {
    // webpackIgnore: the bundle (ncc) must leave this a real import() of the user's file.
    mod = (await import(/* webpackIgnore: true */ specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`decorator.orchestrator: cannot load the orchestrator module '${name}': ${(error as Error).message.split('\n')[0]}`);
  }
  const candidate = (mod.default ?? mod.plugin) as Partial<OrchestratorPlugin> | undefined;
  const schema = candidate?.configSchema as { safeParse?: unknown } | undefined;
  if (
    !candidate ||
    typeof candidate.name !== 'string' ||
    typeof candidate.create !== 'function' ||
    (schema !== undefined && typeof schema?.safeParse !== 'function')
  ) {
    throw new ConfigError(
      `decorator.orchestrator: module '${name}' must export (default or 'plugin') an object with name and create(config, context), ` +
        'and optionally configSchema (anything with a zod-style safeParse)',
    );
  }
  return { description: '', ...candidate, configSchema: candidate.configSchema ?? PASSTHROUGH } as OrchestratorPlugin;
}
