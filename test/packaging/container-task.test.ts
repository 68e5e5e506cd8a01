import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTAINER_TASK_PY } from '../../src/orchestrators/airflow/task.js';
import { KFP_TASK_PY } from '../../src/orchestrators/kubeflow/ir.js';
import { containerTaskPy } from '../../src/packaging/container-task.js';
import { LAUNCHER_PY } from '../../src/packaging/launcher.js';
import { TINY_RUNNER_PY } from '../airflow/helpers.js';
import { tempDir } from '../helpers/services.js';

const SPEC = JSON.stringify({
  workdir: '.',
  parameters: { greeting: 'from deploy', sleep: 0 },
  runner: { module: 'tiny_runner', class: 'TinyRunner', entrypoint: 'build_all', config_file: 'lolpop.yaml', skip_validation: true },
});

/** Runs a container task script in a folder laid out as the image's WORKDIR. */
function run(script: string, args: string[], env: Record<string, string>): string {
  const dir = tempDir('container-task');
  writeFileSync(path.join(dir, 'tiny_runner.py'), TINY_RUNNER_PY);
  writeFileSync(path.join(dir, 'lolpop.yaml'), 'config: {}\n');
  return execFileSync('python3', ['-I', '-c', script, ...args], {
    cwd: dir,
    encoding: 'utf8',
    stdio: 'pipe',
    env: { PATH: process.env.PATH, LOLPOP_DEPLOY_SPEC: SPEC, LOLPOP_DEPLOY_LAUNCHER: LAUNCHER_PY, ...env },
  });
}

describe('the one container task script (Airflow docker task, Kubeflow Pipelines)', () => {
  it('is the same text for both orchestrators but for where the run parameters come from', () => {
    expect(CONTAINER_TASK_PY).toBe(containerTaskPy('env'));
    expect(KFP_TASK_PY).toBe(containerTaskPy('argv'));
    const differing = (a: string, b: string) => a.split('\n').filter((line, i) => line !== b.split('\n')[i]);
    expect(differing(CONTAINER_TASK_PY, KFP_TASK_PY)).toHaveLength(3); // the docstring, the read, the refusal
  });

  it('has no brace in either form (Airflow renders the command as Jinja)', () => {
    expect(containerTaskPy('env')).not.toMatch(/[{}]/);
    expect(containerTaskPy('argv')).not.toMatch(/[{}]/);
  });

  it('Kubeflow Pipelines: merges params_json (argv) over the deploy parameters; no argument means none', () => {
    const marker = path.join(tempDir('container-task-marker'), 'marker.json');
    expect(run(KFP_TASK_PY, [JSON.stringify({ greeting: 'from kfp', marker })], {})).toContain('tiny runner: from kfp');
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toMatchObject({ greeting: 'from kfp' });
    expect(run(KFP_TASK_PY, [], {})).toContain('tiny runner: from deploy');
    expect(() => run(KFP_TASK_PY, ['[1]'], {})).toThrow(/the run's params_json must be a JSON object, got \[1\]/);
  });

  it('Airflow: merges the conf (LOLPOP_DEPLOY_CONF) over the deploy parameters; an empty list is refused, not taken for none', () => {
    expect(run(CONTAINER_TASK_PY, [], { LOLPOP_DEPLOY_CONF: JSON.stringify({ greeting: 'from airflow' }) })).toContain('tiny runner: from airflow');
    expect(() => run(CONTAINER_TASK_PY, [], { LOLPOP_DEPLOY_CONF: '[]' })).toThrow(/the run's conf must be a JSON object, got \[\]/);
  });
});
