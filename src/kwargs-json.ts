import type { StepSection } from './config/schema.js';
import { ConfigError } from './errors.js';

/**
 * What each section's JSON flag or input holds, as an example for its error message:
 * `run-kwargs` are the run's parameters (lolpop passes every key to the flow), not the
 * settings of a step like the others.
 */
export const KWARGS_EXAMPLES: Record<StepSection, string> = {
  package: '{"docker_image_tag": "my-image:{short_sha}"}',
  deploy: '{"work_pool": "my-pool"}',
  run: '{"min_accuracy": 0.9} (each key a run parameter)',
  stop: '{"mode": "delete"}',
};

/**
 * The one parser of a JSON-object flag (the CLI) or input (the action): `label` names it
 * (`--run-kwargs`, `input run-kwargs`), `example` shows what belongs in it.
 */
export function parseJsonObject(text: string, label: string, example: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${label}: not valid JSON (${(error as Error).message}); expected an object such as ${example}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${label}: expected a JSON object such as ${example}, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}
