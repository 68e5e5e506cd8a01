import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparedCommits, firstChanged, watchedPaths } from '../src/changed-only.js';
import { loadConfigSync } from '../src/config/load.js';
import { resolveDeployment } from '../src/deployment.js';
import { orchestratorLookup } from '../src/orchestrators/registry.js';
import { ciContext } from './helpers/services.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('changed-only: the commits compared, by event', () => {
  it('a pull request: its base against its head', () => {
    const ci = ciContext({ eventName: 'pull_request', sha: B, event: { pull_request: { number: 7, base: { sha: A } } } });
    expect(comparedCommits(ci)).toEqual({ base: A, head: B });
  });

  it('a push: before against after', () => {
    expect(comparedCommits(ciContext({ eventName: 'push', sha: B, event: { before: A, after: B } }))).toEqual({ base: A, head: B });
  });

  it('a push that created the branch (before all zeros), a workflow_dispatch and a CLI without --base: every workflow, with a notice saying why', () => {
    expect(comparedCommits(ciContext({ eventName: 'push', event: { before: '0'.repeat(40), after: B } }))).toEqual({
      notice: 'changed-only: deploying every workflow: this push created the branch, so there is no earlier commit to compare with',
    });
    expect(comparedCommits(ciContext({ eventName: 'workflow_dispatch' }))).toEqual({
      notice: 'changed-only: deploying every workflow: a workflow_dispatch event has no base commit to compare with (changed-only compares on pull_request and push events)',
    });
    expect(comparedCommits(ciContext({ eventName: '' }))).toMatchObject({ notice: expect.stringContaining('outside GitHub without --base') });
  });

  it("the CLI's --base wins over the event, against the event's head or HEAD", () => {
    expect(comparedCommits(ciContext({ eventName: 'push', event: { before: A, after: B } }), 'main')).toEqual({ base: 'main', head: 'HEAD' });
  });
});

describe("changed-only: a workflow's own files", () => {
  function deployment(yaml: string) {
    const dir = mkdtempSync(path.join(tmpdir(), 'lolpop-changed-'));
    const file = path.join(dir, 'wf.yaml');
    writeFileSync(file, yaml);
    const loaded = loadConfigSync(file, {}, orchestratorLookup, {}, dir);
    return { dir, file, d: resolveDeployment(loaded.orchestrator, loaded.deployment, ciContext()) };
  }

  it('config, copy_files, runner config, workflow folder, runner module (file or package), Dockerfile, local pip paths, watch_files', () => {
    const { dir, file, d } = deployment(`
orchestrator:
  deployment:
    package:
      lolpop_module: runners.alpha
      prefect_files: teams/alpha/
      copy_files: [train.csv]
      config_file: conf/alpha.yaml
      dockerfile_path: docker/alpha.Dockerfile
      lolpop_install_location: "-r requirements/alpha.txt"
    deploy: {watch_files: ["shared/**/*.py"]}
`);
    expect(watchedPaths(d, file, dir)).toEqual({
      paths: ['wf.yaml', 'train.csv', 'conf/alpha.yaml', 'teams/alpha', 'runners/alpha.py', 'runners/alpha', 'docker/alpha.Dockerfile', 'requirements/alpha.txt'],
      globs: ['shared/**/*.py'],
    });
    const scope = (changed: string[]) => ({ base: A, root: dir, changed: new Set(changed) });
    expect(firstChanged(d, file, dir, scope(['README.md', 'teams/beta/x.py', 'shared/data.csv']))).toBeUndefined();
    expect(firstChanged(d, file, dir, scope(['README.md', 'teams/alpha/steps/train.py']))).toBe('teams/alpha/steps/train.py');
    expect(firstChanged(d, file, dir, scope(['runners/alpha/model.py']))).toBe('runners/alpha/model.py');
    expect(firstChanged(d, file, dir, scope(['shared/lib/feat.py']))).toBe('shared/lib/feat.py');
  });

  it('a flow file at the root: that file, not the whole working directory', () => {
    const { dir, file, d } = deployment('orchestrator:\n  deployment:\n    package: {flow_entrypoint: "flow.py:main", package_type: none}\n');
    expect(watchedPaths(d, file, dir).paths).toEqual(['wf.yaml', 'flow.py']);
  });
});
