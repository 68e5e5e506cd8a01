import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleFiles, deliverBundle } from '../../src/orchestrators/airflow/deliver.js';
import { buildBundle } from '../../src/orchestrators/airflow/bundle.js';
import { DeployKwargs, PackageKwargs } from '../../src/config/schema.js';
import { runConfig } from '../helpers/pipeline.js';
import { resolvedFrom } from '../helpers/requests.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { TINY_RUNNER_PY, writeTinyWorkflow } from './helpers.js';

const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };
const TOKEN = 'gt-plan-s3cr3t-7f1d';

/** The tiny workflow with delivery: git instead of a DAGs folder. */
function gitWorkflow(dir: string, name: string): string {
  const yaml = writeTinyWorkflow(dir, { name, dagsFolder: '/unused' }).replace(
    / {4}dags_folder: .*\n/,
    '    delivery: git\n    git:\n      url: https://git.example.com/acme/dags.git\n      branch: airflow\n      path: pipelines/dags\n      token: ${GIT_TOKEN}\n',
  );
  return yaml;
}

/** Every file under `dir`, relative to it. */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

describe('plan with delivery: git', () => {
  it('names the repository (no credentials), the branch, the folder and each file it would commit, offline, without touching the repository', async () => {
    const dir = tempDir('git-plan');
    const yaml = gitWorkflow(dir, 'tiny-git-plan');
    const { result, logger } = await runConfig({ dir, yaml, env: { PATH: process.env.PATH, GIT_TOKEN: TOKEN }, ci: ciContext(), steps: 'plan', overrides: AIRFLOW });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    const push = result.plan!.actions.find((a) => a.startsWith('commit and push'))!;
    expect(push).toMatch(
      /^commit and push to https:\/\/git\.example\.com\/acme\/dags\.git, branch airflow, folder pipelines\/dags\/tiny-git-plan\/ \(one commit, unless it already holds release ([0-9a-f]{16})\): /,
    );
    const release = /release ([0-9a-f]{16})/.exec(push)![1];
    expect(push.slice(push.indexOf('): ') + 3).split(', ')).toEqual([
      '.airflowignore',
      `releases/${release}/launcher.py`,
      `releases/${release}/run_task.py`,
      `releases/${release}/spec.json`,
      `releases/${release}/workflow/tiny_runner.py`,
      `releases/${release}/workflow/lolpop.yaml`,
      'tiny-git-plan.py',
    ]);
    expect(JSON.stringify(result.plan)).not.toContain(TOKEN);
    expect(logger.lines.join('\n')).not.toContain(TOKEN);
  });

  it('lists exactly the files the delivery writes', () => {
    const dir = tempDir('git-plan-files');
    writeFileSync(path.join(dir, 'tiny_runner.py'), TINY_RUNNER_PY);
    writeFileSync(path.join(dir, 'lolpop.yaml'), 'config: {}\n');
    const pkg = PackageKwargs.parse({ lolpop_class: 'TinyRunner', lolpop_module: 'tiny_runner', config_file: 'lolpop.yaml', copy_files: ['tiny_runner.py'], package_type: 'none' });
    const bundle = buildBundle({ deployment: resolvedFrom('AirflowOrchestrator', { name: 'files', package: pkg, deploy: DeployKwargs.parse({}) }), workdir: dir, task: { kind: 'bash' }, extraTags: [] });
    const dags = tempDir('git-plan-dags');
    deliverBundle(dags, bundle);
    expect(walk(path.join(dags, bundle.dagId)).sort()).toEqual(bundleFiles(bundle).sort());
  });
});
