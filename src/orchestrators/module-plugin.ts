import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { COMMON_KWARGS, sectionKeys, STEP_SECTIONS, type KwargsSchemas, type StepSection } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { OrchestratorPlugin } from './orchestrator.js';

/**
 * A user's orchestrator module (ZenML's "flavor") as loading a config sees it. Its schemas
 * are anything with a zod-style `safeParse` (zod itself, or a few lines of plain
 * JavaScript), so a module needs no dependencies and no particular zod version:
 * - `configSchema` checks `orchestrator.config`;
 * - `kwargs.<section>` checks the keys of a step section that the common kwargs do not
 *   name (the module's own); the common keys are checked as for every orchestrator. Without
 *   it, a key the common kwargs do not know is refused, as for a built-in orchestrator.
 * Both are turned into zod schemas here, so the loader reports their issues as it
 * reports its own: file:line:col, the key, what the module expected.
 */
export interface SafeParseable {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: ReadonlyArray<{ path?: ReadonlyArray<PropertyKey>; message: string }> } };
}

export interface ModuleSchemas {
  configSchema: z.ZodType;
  kwargs: KwargsSchemas | undefined;
}

/**
 * Imports a user's orchestrator module. Only `name` and `create` are required; without a
 * `configSchema`, `orchestrator.config` reaches create() as written. Node keeps one copy
 * of a module: importing it again (loading, then creating) runs it once.
 */
export async function importPlugin(name: string, workdir: string): Promise<OrchestratorPlugin> {
  const specifier = name.startsWith('.') || path.isAbsolute(name) ? pathToFileURL(path.resolve(workdir, name)).href : name;
  let mod: Record<string, unknown>;
  try {
    // webpackIgnore: the bundle (ncc) must leave this a real import() of the user's file.
    mod = (await import(/* webpackIgnore: true */ specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`cannot load the orchestrator module '${name}': ${(error as Error).message.split('\n')[0]}`);
  }
  const candidate = (mod.default ?? mod.plugin) as Partial<OrchestratorPlugin> | undefined;
  const kwargs = candidate?.kwargs as Record<string, unknown> | undefined;
  const badKwargs =
    kwargs !== undefined &&
    (typeof kwargs !== 'object' || Object.entries(kwargs).some(([section, schema]) => !STEP_SECTIONS.includes(section as StepSection) || !isSafeParseable(schema)));
  if (
    !candidate ||
    typeof candidate.name !== 'string' ||
    typeof candidate.create !== 'function' ||
    (candidate.configSchema !== undefined && !isSafeParseable(candidate.configSchema)) ||
    badKwargs
  ) {
    throw new ConfigError(
      `orchestrator module '${name}' must export (default or 'plugin') an object with name and create(config, context), ` +
        `and optionally configSchema and kwargs.{${STEP_SECTIONS.join(',')}} (anything with a zod-style safeParse)`,
    );
  }
  return { description: '', ...candidate } as OrchestratorPlugin;
}

/** The module's schemas as the loader uses them (see SafeParseable). */
export function moduleSchemas(plugin: OrchestratorPlugin, name: string): ModuleSchemas {
  const own = plugin.kwargs as Partial<Record<StepSection, SafeParseable>> | undefined;
  let kwargs: KwargsSchemas | undefined;
  for (const section of STEP_SECTIONS) {
    const schema = own?.[section];
    if (schema) (kwargs ??= {})[section] = sectionWithModuleKeys(section, schema, name) as never;
  }
  const config = plugin.configSchema as unknown as SafeParseable | undefined;
  // The loader says whose config check it was (the module is always chosen by a flag or input).
  return { configSchema: config ? asZod(config) : z.unknown(), kwargs };
}

/** A step section: the common keys checked by the common schema, the others by the module's. */
function sectionWithModuleKeys(section: StepSection, schema: SafeParseable, name: string): z.ZodType {
  const common = COMMON_KWARGS[section];
  const commonKeys = new Set(sectionKeys(common));
  return z.record(z.string(), z.unknown()).transform((value, ctx) => {
    const [shared, theirs] = [{} as Record<string, unknown>, {} as Record<string, unknown>];
    for (const [key, v] of Object.entries(value)) (commonKeys.has(key) ? shared : theirs)[key] = v;
    const base = common.safeParse(shared);
    if (!base.success) {
      for (const issue of base.error.issues) ctx.addIssue({ ...issue, input: undefined });
      return z.NEVER;
    }
    const added = asZod(schema, ` (checked by ${name})`).safeParse(theirs);
    if (!added.success) {
      for (const issue of added.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      return z.NEVER;
    }
    return { ...base.data, ...(added.data as object) };
  });
}

/** A module's safeParse as a zod schema, `suffix` after each of its messages. */
function asZod(schema: SafeParseable, suffix = ''): z.ZodType {
  return z.unknown().transform((value, ctx) => {
    const result = schema.safeParse(value ?? {});
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', path: (issue.path ?? []).filter((p): p is string | number => typeof p !== 'symbol'), message: `${issue.message}${suffix}` });
    }
    return z.NEVER;
  });
}

function isSafeParseable(value: unknown): value is SafeParseable {
  return typeof (value as { safeParse?: unknown } | undefined)?.safeParse === 'function';
}
