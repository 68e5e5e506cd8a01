import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundledAction } from '../helpers/run-action.js';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { airflowGet, writeTinyWorkflow } from './helpers.js';

// The services of scripts/airflow-git-services.sh: a git server over HTTP with basic auth,
// and an Airflow 3 of its own reading that repository through a GitDagBundle.
const git = { url: service('LOLPOP_TEST_GIT_URL'), username: service('LOLPOP_TEST_GIT_USERNAME'), token: service('LOLPOP_TEST_GIT_TOKEN') };
const airflowUrl = service('LOLPOP_TEST_AIRFLOW_GIT_URL');
const airflow = { url: airflowUrl ?? '', username: service('LOLPOP_TEST_AIRFLOW_GIT_USERNAME') ?? '', password: service('LOLPOP_TEST_AIRFLOW_GIT_PASSWORD') ?? '' };
const bundleName = service('LOLPOP_TEST_AIRFLOW_GIT_BUNDLE');
const node24 = service('LOLPOP_TEST_NODE24');
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };

/** The tiny workflow, delivered by git; the token comes from GIT_TOKEN. */
function workflow(dir: string, name: string, parameters: Record<string, unknown> = {}, stop = ''): string {
  return writeTinyWorkflow(dir, {
    name,
    parameters,
    stop,
    delivery: `    delivery: git
    git:
      url: ${git.url}
      username: ${git.username}
      token: \${GIT_TOKEN}
      bundle_name: ${bundleName}
    parse_timeout: 120s
    request_timeout: 90s
`,
  });
}

/** A look at the repository as a user with git would take it: the tip of main, cloned. */
function cloneMain(): { dir: string; git: (...args: string[]) => string } {
  const dir = tempDir('git-check');
  const header = `Authorization: Basic ${Buffer.from(`${git.username}:${git.token}`).toString('base64')}`;
  const run = (...args: string[]) => execFileSync('git', ['-c', `http.extraHeader=${header}`, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
  run('clone', '--quiet', '--branch', 'main', git.url!, '.');
  return { dir, git: run };
}

const env = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, AIRFLOW_API_URL: airflow.url, AIRFLOW_USERNAME: airflow.username, AIRFLOW_PASSWORD: airflow.password, GIT_TOKEN: git.token });

interface DagBody {
  is_paused: boolean;
  bundle_name: string;
  bundle_version: string | null;
  relative_fileloc: string;
}

describe.skipIf(!git.url || !airflowUrl)('delivery: git, against a real git server and an Airflow 3 reading it through a GitDagBundle', () => {
  it.skipIf(!node24)('the bundled action under Node 24, from a working directory that shares nothing with Airflow: pushed, parsed at that commit, run to COMPLETED', async () => {
    const dir = tempDir('git-action');
    const name = `git-ok-${randomUUID().slice(0, 6)}`;
    const marker = path.join(tempDir('git-marker'), 'marker.json');
    workflow(dir, name, { greeting: 'from git', marker });
    const sha = 'c0ffee0000000000000000000000000000000001';
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { comment: 'never', config: 'lolpop.yaml', orchestrator: 'AirflowOrchestrator', wait: 'true', 'wait-timeout': '150s' },
      env: { ...(env() as Record<string, string>), GITHUB_REPOSITORY: 'acme/tiny', GITHUB_SHA: sha, GITHUB_RUN_ID: randomUUID(), GITHUB_RUN_ATTEMPT: '1', GITHUB_EVENT_NAME: 'workflow_dispatch' },
    });
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['run-state'] ?? run.log).toContain('COMPLETED');
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toMatchObject({ greeting: 'from git' });
    // The token is never printed (only in the ::add-mask:: the runner hides it with, if at all).
    expect(run.log.split('\n').filter((l) => l.includes(git.token!) && !l.startsWith('::add-mask::'))).toEqual([]);

    // One commit for this deploy, naming the workflow and the source commit; Airflow parsed that commit.
    const repo = cloneMain();
    const log = repo.git('log', '--format=%H %s', '-n', '20');
    const commit = log.split('\n').find((l) => l.includes(`deploy ${name} `))!;
    expect(commit).toMatch(new RegExp(`^[0-9a-f]{40} lolpop-deploy: deploy ${name} \\(DAG ${name}, release [0-9a-f]{16}\\) from acme/tiny@${sha}$`));
    expect(existsSync(path.join(repo.dir, 'dags', name, `${name}.py`))).toBe(true);
    const dag = await airflowGet<DagBody>(airflow, `dags/${name}`);
    expect(dag.body).toMatchObject({ is_paused: false, bundle_name: bundleName, relative_fileloc: `${name}/${name}.py` });
    expect(dag.body.bundle_version).toMatch(/^[0-9a-f]{40}$/);
  });

  it('deploys racing on the same branch all land: a refused push is redone on top of the other\'s commit', async () => {
    const names = ['a', 'b', 'c'].map((n) => `git-race-${n}-${randomUUID().slice(0, 6)}`);
    const runs = await Promise.all(
      names.map((name) => {
        const dir = tempDir('git-race');
        return runConfig({ dir, yaml: workflow(dir, name), env: env(), ci: ciContext({ repository: 'acme/tiny', sha: 'abc' }), steps: 'deploy', overrides: AIRFLOW });
      }),
    );
    for (const { result, logger } of runs) expect(result.error, logger.lines.join('\n')).toBeUndefined();
    // They fetched the same tip: at least one push was refused and redone on the new one.
    expect(runs.some(({ logger }) => logger.lines.some((l) => l.includes('moved meanwhile (another push); redoing this commit on top of it')))).toBe(true);
    const repo = cloneMain();
    for (const name of names) {
      expect(existsSync(path.join(repo.dir, 'dags', name, `${name}.py`))).toBe(true);
      expect((await airflowGet<DagBody>(airflow, `dags/${name}`)).status).toBe(200);
    }
    const subjects = repo.git('log', '--format=%s', '-n', '30');
    for (const name of names) expect(subjects).toContain(`deploy ${name} `);
  });

  it('stop with mode delete removes the files with a commit, and the DAG is gone', async () => {
    const dir = tempDir('git-stop');
    const name = `git-stop-${randomUUID().slice(0, 6)}`;
    const yaml = workflow(dir, name, {}, '{mode: delete}');
    const ci = ciContext({ repository: 'acme/tiny', sha: 'def' });
    const deployed = await runConfig({ dir, yaml, env: env(), ci, steps: 'deploy', overrides: AIRFLOW });
    expect(deployed.result.error, deployed.logger.lines.join('\n')).toBeUndefined();
    const stopped = await runConfig({ dir, yaml, env: env(), ci, steps: 'stop', overrides: AIRFLOW });
    expect(stopped.result.error, stopped.logger.lines.join('\n')).toBeUndefined();
    expect(stopped.result.stopped?.detail).toBe(`no queued or running run; removed the files of ${name}; deleted DAG ${name}`);
    const repo = cloneMain();
    expect(existsSync(path.join(repo.dir, 'dags', name))).toBe(false);
    expect(repo.git('log', '--format=%s', '-n', '1')).toBe(`lolpop-deploy: remove ${name} from acme/tiny@def`);
    expect((await airflowGet(airflow, `dags/${name}`)).status).toBe(404);
  });

  it('a wrong token ends in one clear line, with nothing pushed and nothing written to Airflow', async () => {
    const dir = tempDir('git-badtoken');
    const name = `git-bad-${randomUUID().slice(0, 6)}`;
    const before = cloneMain().git('rev-parse', 'HEAD');
    const { result, logger } = await runConfig({ dir, yaml: workflow(dir, name), env: { ...env(), GIT_TOKEN: 'not-the-token' }, ci: ciContext(), steps: 'deploy', overrides: AIRFLOW });
    expect(result.error?.message).toBe(
      `git refused the credentials for ${git.url} (branch main): the token in orchestrator.config.git.token (user ${git.username}) was not accepted; set a token allowed to read`,
    );
    expect(logger.lines.join('\n')).not.toContain('not-the-token');
    expect(cloneMain().git('rev-parse', 'HEAD')).toBe(before);
    expect((await airflowGet(airflow, `dags/${name}`)).status).toBe(404);
  });
});
