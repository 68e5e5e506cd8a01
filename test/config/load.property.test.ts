import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigSync } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';

// The config loader over generated configs: it never crashes (every failure is a
// ConfigError), and every error names where — file:line:col or an input — and a key.
const dir = mkdtempSync(path.join(tmpdir(), 'lolpop-property-'));
const file = path.join(dir, 'lolpop.yaml');

const KEYS = ['name', 'type', 'package', 'deploy', 'run', 'stop', 'work_pool', 'lolpop_class', 'lolpop_module', 'wait', 'wait_timeout', 'poll_interval', 'tags', 'parameters', 'docker_image_tag', 'job_variables', 'mode', 'cancel_runs', 'bogus'];
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('30m', '1h30m', '25d', 'soon', 'docker', 'local', 'kubernetes', '${HOME}', '${NOPE}'));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { maxKeys: 4 })),
})).node;
const config = fc.record(
  {
    decorator: fc.oneof(fc.constant(undefined), fc.record({ orchestrator: fc.constantFrom('LocalOrchestrator', 'PrefectOrchestrator', 'AirflowOrchestrator', 'Nope', './x.mjs') })),
    orchestrator: fc.record({
      config: fc.oneof(fc.constant({}), value),
      deployment: fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 6 }),
    }),
  },
  { requiredKeys: [] },
);

function load(text: string): unknown {
  writeFileSync(file, text);
  return loadConfigSync(file, {}, orchestratorLookup, { HOME: '/home/ci' });
}

describe('loadConfig over generated configs', () => {
  it('never crashes: it loads, or fails with a ConfigError that names the file (line:col) and a key', () => {
    fc.assert(
      fc.property(config, (generated) => {
        try {
          load(stringify(generated));
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const message = (error as Error).message;
          for (const line of message.split('\n').filter((l) => !l.startsWith('  '))) {
            // Every line names where (file:line:col) and what: a key path, or a whole-file problem.
            expect(line, message).toMatch(/lolpop\.yaml:\d+:\d+: ([\w.[\]-]+: |YAML (syntax error|aliases): |expected a mapping of keys)/);
          }
        }
      }),
      { numRuns: 500, seed: 20261201 },
    );
  });

  it('arbitrary text never crashes the loader', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          load(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as Error).message).toMatch(/lolpop\.yaml:\d+:\d+: /);
        }
      }),
      { numRuns: 500, seed: 20261201 },
    );
  });

  it('alias bombs of any size fail at the alias, or load when small enough', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 3, max: 9 }), (levels, width) => {
        const lines = ['a0: &a0 [1, 2, 3]'];
        for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: width }, () => `*a${i - 1}`).join(', ')}]`);
        try {
          load(lines.join('\n') + '\n');
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as Error).message).toMatch(/lolpop\.yaml:\d+:\d+: /);
        }
      }),
      { numRuns: 60, seed: 20261201 },
    );
  });
});
