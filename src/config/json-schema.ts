import { z } from 'zod';
import { LolpopFile } from './schema.js';

/**
 * The published JSON Schema (schema/lolpop-deploy.schema.json) for editors, made
 * from the same zod schema that validates the file, in its input form (keys
 * with defaults are optional).
 */
export function buildJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(LolpopFile, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://lolpop-deploy.dev/schema/lolpop-deploy.schema.json',
    title: 'lolpop workflow config (lolpop-deploy)',
    description: "lolpop's workflow YAML with the orchestrator.deployment block read by lolpop-deploy.",
  };
}
