// Fills README.md's generated sections (orchestrators, inputs, outputs) and action.yml's
// `orchestrator` input from the orchestrator registry, as the bundled CLI prints it, and
// action.yml (run by `npm run bundle`, after the CLI is built). `--check`: write nothing,
// exit 1 naming each file that differs (test/docs/generated-docs.test.ts checks the same
// against the registry in src/).
/* global process, console */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { driftedFiles } from './docs-sections.mjs';

const check = process.argv.includes('--check');
const orchestrators = JSON.parse(execFileSync(process.execPath, ['dist/cli/index.js', 'orchestrators', '--json'], { encoding: 'utf8' }));
const drifted = driftedFiles('.', orchestrators);
for (const { file, text } of drifted) {
  if (check) console.error(`${file} differs from the orchestrator registry and action.yml; run npm run bundle (or node scripts/write-docs.mjs) and commit it`);
  else writeFileSync(file, text);
}
if (check && drifted.length > 0) process.exit(1);
