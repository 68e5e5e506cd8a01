import { z } from 'zod';
import { orchestratorLookup } from '../orchestrators/registry.js';
import { deploymentBlockFor, LolpopFileShape, type KwargsSchemas } from './schema.js';
import { DEFAULT_ORCHESTRATOR } from './choose-orchestrator.js';

/** What the JSON Schema needs of the orchestrators: their names and their kwargs. */
export interface SchemaOrchestrators {
  known(): string[];
  kwargsFor(name: string): KwargsSchemas | undefined;
}

const OPTIONS = { io: 'input', target: 'draft-7', unrepresentable: 'any' } as const;

/**
 * The published JSON Schema (schema/lolpop-deploy.schema.json) for editors, made
 * from the same zod schemas that validate the file, in their input form (keys
 * with defaults are optional). `orchestrator.deployment` follows the orchestrator
 * `decorator(s).orchestrator` names, as loading does: one definition per built-in
 * orchestrator (its plugin's kwargs over the common ones), chosen by an if/then per
 * orchestrator; any other decorator (or none) gets the default orchestrator's.
 */
export function buildJsonSchema(orchestrators: SchemaOrchestrators = orchestratorLookup): Record<string, unknown> {
  const { $schema, ...file } = z.toJSONSchema(LolpopFileShape, OPTIONS) as Record<string, unknown>;
  const names = orchestrators.known();
  const definitions: Record<string, unknown> = {};
  for (const name of names) {
    const deployment = z.toJSONSchema(deploymentBlockFor(orchestrators.kwargsFor(name)), OPTIONS) as Record<string, unknown>;
    delete deployment.$schema;
    definitions[`${name}.deployment`] = { ...deployment, description: `orchestrator.deployment as ${name} reads it.` };
  }
  const deploymentIs = (name: string) => ({
    properties: { orchestrator: { properties: { deployment: { $ref: `#/definitions/${name}.deployment` } } } },
  });
  const named = (list: string[]) => ({
    anyOf: ['decorator', 'decorators'].map((key) => ({
      properties: { [key]: { properties: { orchestrator: { enum: list } }, required: ['orchestrator'] } },
      required: [key],
    })),
  });
  const others = names.filter((n) => n !== DEFAULT_ORCHESTRATOR);
  return {
    $schema,
    $id: 'https://lolpop-deploy.dev/schema/lolpop-deploy.schema.json',
    title: 'lolpop workflow config (lolpop-deploy)',
    description: "lolpop's workflow YAML with the orchestrator.deployment block read by lolpop-deploy.",
    ...file,
    allOf: [
      ...others.map((name) => ({ if: named([name]), then: deploymentIs(name) })),
      { if: named(others), else: deploymentIs(DEFAULT_ORCHESTRATOR) },
    ],
    definitions,
  };
}
