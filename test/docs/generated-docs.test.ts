import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without types (shared with scripts/write-docs.mjs)
import { driftedFiles, generatedTexts } from '../../scripts/docs-sections.mjs';
import { DEFAULT_ORCHESTRATOR } from '../../src/config/choose-orchestrator.js';
import { RUN_STATES } from '../../src/orchestrators/orchestrator.js';
import { describeOrchestrators, knownOrchestrators } from '../../src/orchestrators/registry.js';

type Drift = { file: string; text: string };
const action = parse(readFileSync('action.yml', 'utf8')) as { description: string; inputs: Record<string, { description: string }>; outputs: Record<string, { description: string }> };

describe('the lists users read are the registry and action.yml (npm run bundle writes them)', () => {
  it('README.md (orchestrators, inputs, outputs) and action.yml hold what scripts/write-docs.mjs generates', () => {
    const drifted = (driftedFiles('.', describeOrchestrators()) as Drift[]).map((d) => d.file);
    expect(drifted, 'run npm run bundle (or node scripts/write-docs.mjs) and commit the files').toEqual([]);
  });

  it('the README names every built-in orchestrator with its registry description, and every input and output', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const o of describeOrchestrators()) expect(readme).toContain(`| \`${o.name}\` | ${o.description}`);
    for (const name of [...Object.keys(action.inputs), ...Object.keys(action.outputs)]) expect(readme).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });

  it("action.yml's orchestrator input names every built-in and the default; run-state names every run state", () => {
    const input = action.inputs.orchestrator!.description;
    for (const name of knownOrchestrators()) expect(input).toContain(`\`${name}\``);
    expect(input).toContain(`else \`${DEFAULT_ORCHESTRATOR}\``);
    expect(action.outputs['run-state']!.description).toContain(`one of ${RUN_STATES.join(', ')} `);
  });

  it('a registry entry the files do not show yet is drift, and a README without the markers is refused', () => {
    const current = { 'README.md': readFileSync('README.md', 'utf8'), 'action.yml': readFileSync('action.yml', 'utf8') };
    const added = [...describeOrchestrators(), { name: 'HypotheticalOrchestrator', description: 'a new one', docs: 'docs/hypothetical.md', default: false }];
    const wanted = generatedTexts(current, added) as Record<string, string>;
    expect(wanted['README.md']).toContain('| `HypotheticalOrchestrator` | a new one | [docs/hypothetical.md](docs/hypothetical.md) |');
    expect(wanted['action.yml']).toContain('`HypotheticalOrchestrator`');
    const unmarked = { ...current, 'README.md': current['README.md'].replace('<!-- generated:inputs -->', '') };
    expect(() => generatedTexts(unmarked, describeOrchestrators())).toThrow(
      'README.md: no <!-- generated:inputs --> … <!-- /generated:inputs --> pair; put the markers where the inputs table belongs',
    );
  });
});
