import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import { formatPath, type ConfigPath } from './locate.js';
import { mergedKwargs, sectionKeys, STEP_SECTIONS, type StepSection } from './schema.js';
import type { OrchestratorLookup } from './load.js';

/** A message for an unknown key of a step section when another orchestrator reads it, else undefined. */
export type ForeignKeyMessage = (section: StepSection, key: string) => string | undefined;

/** What the messages need besides the issues: where each key is, and what the file was checked against. */
export interface IssueContext {
  at: (p: ConfigPath) => string;
  /** Config paths (joined by '.') set by an input or flag, with its label. */
  fromInput: Map<string, string>;
  /** The schema the issues' paths are relative to, and where it sits in the file: for "did you mean". */
  schema?: { root: ConfigPath; schema: z.core.$ZodType };
  foreign?: ForeignKeyMessage;
}

/**
 * zod's issues as one ConfigError, a line per issue (at most 5): `file:line:col: key: what
 * was expected` (or the input that set the key). An unknown key is said to be another
 * orchestrator's when one reads it, else a misspelling, with the closest known key.
 */
export function issuesToError(issues: ReadonlyArray<z.core.$ZodIssue>, context: IssueContext): ConfigError {
  const lines: string[] = [];
  const line = (issuePath: Array<string | number>, message: string) => {
    const key = formatPath(issuePath);
    // The input that set this key, or one of its parents (a nested object from a flag).
    const input = issuePath.map((_, i) => context.fromInput.get(issuePath.slice(0, issuePath.length - i).join('.'))).find(Boolean);
    const where = input ?? context.at(issuePath);
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
      const message = section && context.foreign?.(section, key);
      if (message) owned.set(key, message);
    }
    for (const [key, message] of owned) line([...issuePath, key], message);
    const unknown = issue.keys.filter((k) => !owned.has(k));
    if (unknown.length === 0) continue;
    const known = context.schema ? keysAt(context.schema.schema, issuePath.slice(context.schema.root.length)) : [];
    const guesses = unknown.map((k) => [k, didYouMean(k, known)] as const).filter(([, guess]) => guess !== undefined);
    const hint = guesses.length > 0 ? `; did you mean ${guesses.map(([k, guess]) => (unknown.length > 1 ? `${guess} (for ${k})` : guess)).join(', ')}?` : '; check its spelling';
    line([...issuePath, unknown[0]!], `unknown key${unknown.length > 1 ? 's ' + unknown.join(', ') : ''}${hint}`);
  }
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return new ConfigError(lines.join('\n') + more);
}

/**
 * For a key the chosen orchestrator does not read: which other known orchestrator's it
 * is, said as such (`orchestrator.deployment.deploy.work_pool: PrefectOrchestrator's key;
 * AirflowOrchestrator does not read it`), never taken for a typo nor silently ignored.
 */
export function foreignKeyOwner(chosen: string, lookup: OrchestratorLookup, chosenBy: string | undefined): ForeignKeyMessage {
  return (section, key) => {
    const owners = lookup
      .known()
      .filter((other) => other !== chosen && sectionKeys(mergedKwargs(lookup.kwargsFor(other))[section]).includes(key));
    if (owners.length === 0) return undefined;
    const by = chosenBy ? ` (chosen by ${chosenBy})` : '';
    return `${owners.map((o) => `${o}'s`).join(' and ')} key; ${chosen}${by} does not read it`;
  };
}

/** `deploy` for the path orchestrator.deployment.deploy, else undefined. */
function stepSectionOf(issuePath: ReadonlyArray<string | number>): StepSection | undefined {
  if (issuePath.length !== 3 || issuePath[0] !== 'orchestrator' || issuePath[1] !== 'deployment') return undefined;
  return STEP_SECTIONS.find((s) => s === issuePath[2]);
}

/** The keys the object schema at `path` inside `schema` names (through defaults, optionals and transforms). */
function keysAt(schema: z.core.$ZodType, path: ConfigPath): string[] {
  let node: z.core.$ZodType | undefined = schema;
  for (let i = 0; node && i <= path.length; ) {
    if (node instanceof z.ZodObject) {
      if (i === path.length) return Object.keys(node.shape);
      node = node.shape[String(path[i])] as z.core.$ZodType | undefined;
      i++;
    } else if (node instanceof z.ZodPipe) {
      node = node.in;
    } else if ('innerType' in node._zod.def) {
      node = node._zod.def.innerType as z.core.$ZodType;
    } else {
      return i === path.length ? sectionKeys(node) : [];
    }
  }
  return [];
}
