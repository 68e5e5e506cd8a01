import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployKwargs, PackageKwargs } from '../../src/config/schema.js';
import { buildBundle } from '../../src/orchestrators/airflow/bundle.js';
import { deliverBundle } from '../../src/orchestrators/airflow/deliver.js';
import { tempDir } from '../helpers/services.js';
import { resolvedFrom } from '../helpers/requests.js';

// Issue 22: a runner module kept under prefect_files/ (where the image and a Prefect
// worker's checkout have it) must be in the Airflow release, and importable there.
describe('the release holds the runner modules the image would get', () => {
  function workflow(): string {
    const dir = tempDir('airflow-release');
    mkdirSync(path.join(dir, 'prefect_files/helpers'), { recursive: true });
    mkdirSync(path.join(dir, 'prefect_files/airflow'));
    mkdirSync(path.join(dir, 'prefect_files/__pycache__'));
    writeFileSync(
      path.join(dir, 'prefect_files/my_runner.py'),
      'import json, os\nfrom helpers.words import shout\n\nclass MyRunner:\n' +
        '    def __init__(self, conf, skip_config_validation=False):\n        self.conf = conf\n' +
        '    def build_all(self, greeting="hi", marker=None):\n        with open(marker, "w") as f:\n            json.dump({"said": shout(greeting), "conf": open(self.conf).read()}, f)\n',
    );
    writeFileSync(path.join(dir, 'prefect_files/helpers/__init__.py'), '');
    writeFileSync(path.join(dir, 'prefect_files/helpers/words.py'), 'def shout(s):\n    return s.upper()\n');
    writeFileSync(path.join(dir, 'prefect_files/dev.yaml'), 'config: {}\n');
    // What package generates there: not part of the release.
    writeFileSync(path.join(dir, 'prefect_files/run.py'), '# generated\n');
    writeFileSync(path.join(dir, 'prefect_files/airflow/d.py'), '# generated DAG for review\n');
    writeFileSync(path.join(dir, 'prefect_files/__pycache__/my_runner.cpython-311.pyc'), 'bytes');
    return dir;
  }
  const build = (dir: string) =>
    buildBundle({
      deployment: resolvedFrom('AirflowOrchestrator', { name: 'd', package: PackageKwargs.parse({ lolpop_class: 'MyRunner', lolpop_module: 'my_runner' }), deploy: DeployKwargs.parse({}) }),
      workdir: dir,
      task: { kind: 'bash' },
      extraTags: [],
    });

  it('copies prefect_files/ (not what package generates there) and the task imports the runner from it', () => {
    const dir = workflow();
    const bundle = build(dir);
    expect(bundle.release.map((f) => f.path)).toEqual([
      'launcher.py',
      'run_task.py',
      'spec.json',
      'workflow/prefect_files/dev.yaml',
      'workflow/prefect_files/helpers/__init__.py',
      'workflow/prefect_files/helpers/words.py',
      'workflow/prefect_files/my_runner.py',
    ]);
    // The release is the same whether package ran first or not.
    writeFileSync(path.join(dir, 'prefect_files/run.py'), '# generated again, differently\n');
    expect(build(dir).fingerprint).toBe(bundle.fingerprint);

    // Run the delivered task script as the BashOperator does, with a real Python.
    const dags = tempDir('airflow-release-dags');
    deliverBundle(dags, bundle);
    const marker = path.join(dir, 'marker.json');
    execFileSync('python3', [path.join(dags, 'd', 'releases', bundle.fingerprint, 'run_task.py')], {
      env: { PATH: process.env.PATH, LOLPOP_DEPLOY_CONF: JSON.stringify({ greeting: 'hello', marker }) },
      encoding: 'utf8',
    });
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({ said: 'HELLO', conf: 'config: {}\n' });
  });
});
