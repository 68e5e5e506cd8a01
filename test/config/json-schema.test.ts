import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildJsonSchema } from '../../src/config/json-schema.js';

const published = JSON.parse(readFileSync('schema/lolpop-deploy.schema.json', 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ strict: false, allErrors: true }).compile(published);

/** Every lolpop-deploy config among the examples: a YAML file with an `orchestrator:` block. */
const exampleConfigs = readdirSync('examples').flatMap((dir) =>
  readdirSync(path.join('examples', dir))
    .filter((f) => f.endsWith('.yaml') && /^orchestrator:/m.test(readFileSync(path.join('examples', dir, f), 'utf8')))
    .map((f) => `examples/${dir}/${f}`),
);

/** Every example config in the repository, and the valid test fixtures. */
const validFiles = [
  ...exampleConfigs,
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

  it("follows decorator.orchestrator: a PrefectOrchestrator key under AirflowOrchestrator is flagged, as the loader does", () => {
    const file = parse(readFileSync('test/fixtures/config/prefect-key-under-airflow.yaml', 'utf8')) as Record<string, unknown>;
    const flagged = () =>
      (validate.errors ?? [])
        .filter((e) => e.keyword === 'additionalProperties')
        .map((e) => `${e.instancePath}/${String(e.params.additionalProperty)}`)
        .sort();
    expect(validate(file)).toBe(false);
    expect(flagged()).toEqual(['/orchestrator/deployment/deploy/work_pol', '/orchestrator/deployment/deploy/work_pool', '/orchestrator/deployment/run/flow_run_name']);
    // The same keys are PrefectOrchestrator's own: accepted under it (the typo is still not).
    const asPrefect = { ...file, decorator: { orchestrator: 'PrefectOrchestrator' } };
    expect(validate(asPrefect)).toBe(false);
    expect(flagged()).toEqual(['/orchestrator/deployment/deploy/work_pol']);
  });

  it.each([
    ['no decorator', {}],
    ['an orchestrator lolpop-deploy does not know', { decorator: { orchestrator: 'MetaflowOrchestrator' } }],
    ['LocalOrchestrator (decorators spelling)', { decorators: { orchestrator: 'LocalOrchestrator' } }],
  ])('with %s, the deployment is the default orchestrator\'s: a Prefect key is flagged', (_name, decorator) => {
    expect(validate({ ...decorator, orchestrator: { deployment: { stop: { delete_secret: true } } } })).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain('/orchestrator/deployment/stop');
    expect(validate({ ...decorator, orchestrator: { deployment: { stop: { mode: 'delete' } } } })).toBe(true);
  });

  it('finds the example configs (so the rows above cannot silently be empty)', () => {
    expect(exampleConfigs).toEqual(expect.arrayContaining(['examples/quickstart/lolpop.yaml', 'examples/custom-orchestrator/lolpop.yaml']));
  });
});
