import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployKwargs, PackageKwargs } from '../../src/config/schema.js';
import { buildBundle } from '../../src/orchestrators/airflow/bundle.js';
import { renderDagFile } from '../../src/orchestrators/airflow/dag-file.js';
import { deliverBundle, fingerprintOf, removeBundle } from '../../src/orchestrators/airflow/deliver.js';
import type { AirflowTask } from '../../src/orchestrators/airflow/task.js';
import { tempDir } from '../helpers/services.js';
import { resolvedFrom } from '../helpers/requests.js';

const BASH: AirflowTask = { kind: 'bash' };

const pkg = (over: Record<string, unknown> = {}) =>
  PackageKwargs.parse({ lolpop_class: 'QuickstartRunner', lolpop_module: 'quickstart_runner', config_file: 'q.yaml', copy_files: ['quickstart_runner.py', 'data/train.csv'], ...over });

function workdir(): string {
  const dir = tempDir('airflow-unit');
  mkdirSync(path.join(dir, 'data'));
  writeFileSync(path.join(dir, 'quickstart_runner.py'), 'class QuickstartRunner: pass\n');
  writeFileSync(path.join(dir, 'data/train.csv'), 'a,b\n1,2\n');
  writeFileSync(path.join(dir, 'q.yaml'), 'config: {}\n');
  return dir;
}

describe('renderDagFile', () => {
  const options = { dagId: 'lolpop-quickstart', deploymentName: 'lolpop-quickstart', fingerprint: '0123abcd0123abcd', taskId: 'build_all', description: 'd "q"', tags: ['team:ml'], task: BASH };

  it('is one BashOperator task on the worker\'s own Python, with conf passed as JSON in the environment and the fingerprint as a tag', () => {
    const text = renderDagFile(options);
    expect(text).toContain('PYTHON = sys.executable');
    expect(text).toContain('dag_id="lolpop-quickstart"');
    expect(text).toContain('tags=["lolpop", "lolpop-deploy:0123abcd0123abcd", "team:ml"]');
    expect(text).toContain('"LOLPOP_DEPLOY_CONF": "{{ dag_run.conf | tojson }}"');
    expect(text).toContain('task_id="build_all"');
    expect(text).toContain('description="d \\"q\\""');
    expect(text).toContain('schedule=None');
    expect(fingerprintOf(text)).toBe('0123abcd0123abcd');
  });

  it('runs the runner with the configured interpreter, quoted as a Python string', () => {
    expect(renderDagFile({ ...options, task: { kind: 'bash', python: '/opt/lolpop runtime/bin/python' } })).toContain('PYTHON = "/opt/lolpop runtime/bin/python"');
  });

  it('is valid Python', () => {
    const dir = tempDir('airflow-unit');
    const file = path.join(dir, 'dag.py');
    writeFileSync(file, renderDagFile({ ...options, task: { kind: 'bash', python: "it's" } }));
    execFileSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file]);
  });
});

describe('buildBundle', () => {
  it('puts the launcher, its spec and the workflow files (copy_files and the config file) into the release', () => {
    const dir = workdir();
    const bundle = buildBundle({ deployment: resolvedFrom('AirflowOrchestrator', { name: 'my deploy/1', package: pkg(), deploy: DeployKwargs.parse({ parameters: { a: 1 } }) }), workdir: dir, task: BASH, extraTags: [] });
    expect(bundle.dagId).toBe('my_deploy_1');
    expect(bundle.release.map((f) => f.path)).toEqual(['launcher.py', 'run_task.py', 'spec.json', 'workflow/quickstart_runner.py', 'workflow/data/train.csv', 'workflow/q.yaml']);
    const spec = JSON.parse(String(bundle.release.find((f) => f.path === 'spec.json')!.content));
    expect(spec).toEqual({
      workdir: 'workflow',
      parameters: { a: 1 },
      python_path: ['prefect_files'],
      runner: { module: 'quickstart_runner', class: 'QuickstartRunner', entrypoint: 'build_all', config_file: 'q.yaml', skip_validation: false },
    });
    expect(bundle.ignoreFile).toContain('releases/');
  });

  it('has the same fingerprint for the same content, and another one when a file or a setting changes', () => {
    const dir = workdir();
    const build = (python?: string) => buildBundle({ deployment: resolvedFrom('AirflowOrchestrator', { name: 'd', package: pkg(), deploy: DeployKwargs.parse({}) }), workdir: dir, task: { kind: 'bash', python }, extraTags: [] });
    const first = build();
    expect(build().fingerprint).toBe(first.fingerprint);
    expect(build('/usr/bin/python3').fingerprint).not.toBe(first.fingerprint);
    writeFileSync(path.join(dir, 'data/train.csv'), 'a,b\n3,4\n');
    expect(build().fingerprint).not.toBe(first.fingerprint);
  });

  it('names a missing workflow file in the error', () => {
    expect(() => buildBundle({ deployment: resolvedFrom('AirflowOrchestrator', { name: 'd', package: pkg({ copy_files: ['nope.csv'] }), deploy: DeployKwargs.parse({}) }), workdir: workdir(), task: BASH, extraTags: [] })).toThrow(
      /Cannot deliver 'nope.csv' to Airflow: .*nope.csv does not exist/,
    );
  });
});

describe('deliverBundle', () => {
  it('writes the release and the DAG file, keeps the previous release for its runs, removes older ones, and removes it all on request', () => {
    const dir = workdir();
    const dags = tempDir('airflow-dags');
    const build = () => buildBundle({ deployment: resolvedFrom('AirflowOrchestrator', { name: 'd', package: pkg(), deploy: DeployKwargs.parse({}) }), workdir: dir, task: BASH, extraTags: [] });
    const releases = () => execFileSync('ls', [path.join(dags, 'd', 'releases')], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const v1 = build();
    expect(deliverBundle(dags, v1)).toEqual({ dir: path.join(dags, 'd'), relativeFile: 'd/d.py', changed: true });
    expect(deliverBundle(dags, v1).changed).toBe(false);
    writeFileSync(path.join(dir, 'q.yaml'), 'config: {x: 2}\n');
    const v2 = build();
    deliverBundle(dags, v2);
    expect(releases()).toEqual([v1.fingerprint, v2.fingerprint].sort());
    writeFileSync(path.join(dir, 'q.yaml'), 'config: {x: 3}\n');
    const v3 = build();
    deliverBundle(dags, v3);
    expect(releases()).toEqual([v2.fingerprint, v3.fingerprint].sort());
    expect(execFileSync('cat', [path.join(dags, 'd', 'releases', v3.fingerprint, 'workflow', 'q.yaml')], { encoding: 'utf8' })).toBe('config: {x: 3}\n');
    expect(removeBundle(dags, 'd')).toBe(true);
    expect(removeBundle(dags, 'd')).toBe(false);
  });
});
