import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildJsonSchema } from '../../src/config/json-schema.js';

const published = JSON.parse(readFileSync('schema/lolpop-deploy.schema.json', 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ strict: false, allErrors: true }).compile(published);

/** Every example config in the repository, and the valid test fixtures. */
const validFiles = [
  'examples/quickstart/lolpop.yaml',
  'examples/custom-orchestrator/lolpop.yaml',
  ...['valid-prefect.yaml', 'singular-spelling.yaml', 'env-reference.yaml'].map((f) => path.join('test/fixtures/config', f)),
];

describe('the published JSON Schema', () => {
  it('is the schema the code validates with (npm run bundle writes it)', () => {
    expect(published).toEqual(buildJsonSchema());
  });

  it.each(validFiles)('accepts %s', (file) => {
    const ok = validate(parse(readFileSync(file, 'utf8')));
    expect(validate.errors ?? [], file).toEqual([]);
    expect(ok).toBe(true);
  });

  it.each([
    ['wrong-type.yaml', '/orchestrator/deployment/package/push_image'],
    ['unknown-key.yaml', '/orchestrator/deployment/deploy'],
    ['bad-enum.yaml', '/orchestrator/deployment/type'],
  ])('rejects %s at %s, as the loader does', (file, pointer) => {
    expect(validate(parse(readFileSync(path.join('test/fixtures/config', file), 'utf8')))).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain(pointer);
  });

  it('covers every example config in the repository', () => {
    const examples = readdirSync('examples').map((d) => `examples/${d}/lolpop.yaml`);
    expect(validFiles).toEqual(expect.arrayContaining(examples));
  });
});
