import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployKwargs, PackageKwargs } from '../../src/config/schema.js';
import { buildBundle } from '../../src/orchestrators/airflow/bundle.js';
import { bundleLayout, deliverBundle } from '../../src/orchestrators/airflow/deliver.js';
import { resolvedFrom } from '../helpers/requests.js';
import { tempDir } from '../helpers/services.js';

/** Every file under `dir`, relative, with its text. */
function filesIn(dir: string, under = ''): Record<string, string> {
  const found: Record<string, string> = {};
  for (const entry of readdirSync(path.join(dir, under), { withFileTypes: true })) {
    const relative = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(found, filesIn(dir, relative));
    else found[relative] = readFileSync(path.join(dir, relative), 'utf8');
  }
  return found;
}

// delivery: s3 uploads bundleLayout's files one by one; they must be what the folder (and git) delivery writes.
describe('bundleLayout: the files an object-store delivery uploads', () => {
  it('are the files deliverBundle writes, the .airflowignore first and the DAG file last', () => {
    const dir = tempDir('layout');
    writeFileSync(path.join(dir, 'r.py'), 'class R: pass\n');
    const bundle = buildBundle({
      deployment: resolvedFrom('AirflowOrchestrator', {
        name: 'd',
        package: PackageKwargs.parse({ lolpop_class: 'R', lolpop_module: 'r', config_file: 'r.py', copy_files: ['r.py'] }),
        deploy: DeployKwargs.parse({}),
      }),
      workdir: dir,
      task: { kind: 'bash' },
      extraTags: [],
    });
    const layout = bundleLayout(bundle);
    const dags = tempDir('layout-dags');
    deliverBundle(dags, bundle);
    expect(Object.fromEntries(layout.map((f) => [f.path, f.content.toString()]))).toEqual(filesIn(path.join(dags, 'd')));
    expect(layout[0]!.path).toBe('.airflowignore');
    expect(layout.at(-1)!.path).toBe('d.py');
    expect(layout.slice(1, -1).every((f) => f.path.startsWith(`releases/${bundle.fingerprint}/`))).toBe(true);
  });
});
