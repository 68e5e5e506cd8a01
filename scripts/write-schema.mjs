// Writes schema/lolpop-deploy.schema.json from the bundled CLI, so the published
// JSON Schema is always the one the code validates with (run by `npm run bundle`).
/* global process */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const schema = execFileSync(process.execPath, ['dist/cli/index.js', 'schema'], { encoding: 'utf8' });
mkdirSync('schema', { recursive: true });
writeFileSync('schema/lolpop-deploy.schema.json', schema);
