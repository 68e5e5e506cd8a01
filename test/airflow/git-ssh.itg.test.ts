import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundledAction } from '../helpers/run-action.js';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { airflowEnv, writeTinyWorkflow } from './helpers.js';

// scripts/git-ssh-services.sh: a real sshd letting in one git-shell user by public key, the
// same repository served read-only by git daemon, and a git-sync-style loop checking its
// main branch out behind a link inside the Airflow 2.10 DAGs folder (LOLPOP_GIT_SYNC_LINK).
const ssh = {
  url: service('LOLPOP_TEST_GIT_SSH_URL'),
  repo: service('LOLPOP_TEST_GIT_SSH_REPO'),
  keyFile: service('LOLPOP_TEST_GIT_SSH_KEY_FILE'),
  knownHostsFile: service('LOLPOP_TEST_GIT_SSH_KNOWN_HOSTS_FILE'),
  syncLink: service('LOLPOP_TEST_GIT_SYNC_LINK'),
};
const url = service('LOLPOP_TEST_AIRFLOW2_URL');
const airflow2 = { url: url ?? '', username: service('LOLPOP_TEST_AIRFLOW2_USERNAME') ?? '', password: service('LOLPOP_TEST_AIRFLOW2_PASSWORD') ?? '' };
const node24 = service('LOLPOP_TEST_NODE24');
const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };
const KEY_ENV = 'AIRFLOW_DAGS_DEPLOY_KEY';

/** The tiny workflow delivered by git over SSH; `known` is the git block's host-key line(s). */
function workflow(dir: string, name: string, parameters: Record<string, unknown> = {}, known = `known_hosts_file: ${ssh.knownHostsFile}`, stop = ''): string {
  return writeTinyWorkflow(dir, {
    name,
    parameters,
    stop,
    delivery: `    delivery: git
    git:
      url: ${ssh.url}
      ssh_key_env: ${KEY_ENV}
      ${known}
    parse_timeout: 120s
`,
  });
}

/** The bare repository as its owner sees it on the server. */
const bare = (...args: string[]) => execFileSync('git', ['-c', 'safe.directory=*', `--git-dir=${ssh.repo}`, ...args], { encoding: 'utf8' }).trim();

/** A key pair that is not the deploy key: its private half. */
function otherKey(): { privateKey: string; publicLine: string } {
  const file = path.join(tempDir('other-key'), 'id');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-the-deploy-key', '-f', file]);
  return { privateKey: readFileSync(file, 'utf8'), publicLine: readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ') };
}

/** GET under Airflow 2's /api/v1 (basic auth). */
async function v1<T>(pathname: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${airflow2.url}/api/v1/${pathname}`, { headers: { authorization: `Basic ${Buffer.from(`${airflow2.username}:${airflow2.password}`).toString('base64')}` } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const keyFolders = () => readdirSync(tmpdir()).filter((n) => n.startsWith('lolpop-ssh-'));

describe.skipIf(!ssh.url || !url)('delivery: git over SSH with a deploy key (a real sshd), onto Airflow 2.10 reading the branch through a git-sync-style folder', () => {
  it.skipIf(!node24)('the bundled action under Node 24: pushed over ssh with the deploy key, synced, parsed (fingerprint tag), run to COMPLETED; the key never printed nor left on disk', async () => {
    const dir = tempDir('git-ssh-action');
    const name = `git-ssh-${randomUUID().slice(0, 6)}`;
    const marker = path.join(tempDir('git-ssh-marker'), 'marker.json');
    workflow(dir, name, { greeting: 'over ssh', marker });
    const key = readFileSync(ssh.keyFile!, 'utf8');
    const foldersBefore = keyFolders();
    const sha = 'c0ffee0000000000000000000000000000000022';
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { comment: 'never', config: 'lolpop.yaml', orchestrator: 'AirflowOrchestrator', wait: 'true', 'wait-timeout': '180s' },
      env: {
        ...(airflowEnv(airflow2) as Record<string, string>),
        // As a GitHub secret gives it: without the last newline.
        [KEY_ENV]: key.trim(),
        GITHUB_REPOSITORY: 'acme/tiny',
        GITHUB_SHA: sha,
        GITHUB_RUN_ID: randomUUID(),
        GITHUB_RUN_ATTEMPT: '1',
        GITHUB_EVENT_NAME: 'workflow_dispatch',
      },
    });
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['run-state'] ?? run.log).toContain('COMPLETED');
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toMatchObject({ greeting: 'over ssh' });

    // The commit is in the server's repository, with the DAG and its release.
    const subject = bare('log', '--format=%s', '-n', '20', 'main').split('\n').find((s) => s.includes(`deploy ${name} `));
    expect(subject).toMatch(new RegExp(`^lolpop-deploy: deploy ${name} \\(DAG ${name}, release [0-9a-f]{16}\\) from acme/tiny@${sha}$`));
    const release = /release ([0-9a-f]{16})/.exec(subject!)![1];
    const files = bare('ls-tree', '-r', '--name-only', 'main', `dags/${name}`).split('\n');
    expect(files).toEqual(expect.arrayContaining([`dags/${name}/${name}.py`, `dags/${name}/releases/${release}/spec.json`, `dags/${name}/releases/${release}/workflow/tiny_runner.py`]));
    // Airflow 2.10 parsed it from the synced folder, and that version (its fingerprint tag) is what ran.
    const dag = await v1<{ fileloc: string; tags: Array<{ name: string }> }>(`dags/${name}/details`);
    expect(dag.body.fileloc).toBe(path.join(ssh.syncLink!, 'dags', name, `${name}.py`));
    expect(dag.body.tags.map((t) => t.name)).toContain(`lolpop-deploy:${release}`);

    // The key: never in the log (but in the ::add-mask:: lines that hide it), and its temporary files are gone.
    const keyLines = key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    expect(run.log.split('\n').filter((l) => !l.startsWith('::add-mask::') && keyLines.some((k) => l.includes(k)))).toEqual([]);
    expect(keyFolders()).toEqual(foldersBefore);
  });

  it('stop with mode delete over ssh removes the files with a commit; Airflow 2.10 then has no DAG', async () => {
    const dir = tempDir('git-ssh-stop');
    const name = `git-ssh-stop-${randomUUID().slice(0, 6)}`;
    const yaml = workflow(dir, name, {}, undefined, '{mode: delete}');
    const env = { ...airflowEnv(airflow2), [KEY_ENV]: readFileSync(ssh.keyFile!, 'utf8') };
    const ci = ciContext({ repository: 'acme/tiny', sha: 'def' });
    const deployed = await runConfig({ dir, yaml, env, ci, steps: 'deploy', overrides: AIRFLOW });
    expect(deployed.result.error, deployed.logger.lines.join('\n')).toBeUndefined();
    expect(bare('ls-tree', '--name-only', 'main', `dags/${name}/`)).toContain(`${name}.py`);
    const stopped = await runConfig({ dir, yaml, env, ci, steps: 'stop', overrides: AIRFLOW });
    expect(stopped.result.error, stopped.logger.lines.join('\n')).toBeUndefined();
    expect(stopped.result.stopped?.detail).toBe(`no queued or running run; removed the files of ${name}; deleted DAG ${name}`);
    expect(bare('ls-tree', '--name-only', 'main', `dags/${name}/`)).toBe('');
    expect(bare('log', '--format=%s', '-n', '1', 'main')).toBe(`lolpop-deploy: remove ${name} from acme/tiny@def`);
    expect((await v1(`dags/${name}`)).status).toBe(404);
  });

  it('a key the server does not accept ends in one clear line; nothing pushed, nothing written to Airflow', async () => {
    const dir = tempDir('git-ssh-wrong');
    const name = `git-ssh-wrong-${randomUUID().slice(0, 6)}`;
    const yaml = workflow(dir, name);
    const tip = bare('rev-parse', 'main');
    const wrong = otherKey();
    const { result, logger } = await runConfig({ dir, yaml, env: { ...airflowEnv(airflow2), [KEY_ENV]: wrong.privateKey }, ci: ciContext(), steps: 'deploy', overrides: AIRFLOW });
    expect(result.error?.message).toBe(
      `git over ssh refused the deploy key for ${ssh.url} (branch main): the key in ${KEY_ENV} (orchestrator.config.git.ssh_key_env) was not accepted; ` +
        'add its public key to the repository as a deploy key allowed to read',
    );
    expect(bare('rev-parse', 'main')).toBe(tip);
    expect((await v1(`dags/${name}`)).status).toBe(404);
    expect(logger.lines.join('\n')).not.toContain(wrong.privateKey.split('\n')[1]);
  });

  it('a host key not in known_hosts is refused with the fix (never accepted); a changed one too; nothing pushed', async () => {
    const dir = tempDir('git-ssh-host');
    const name = `git-ssh-host-${randomUUID().slice(0, 6)}`;
    const tip = bare('rev-parse', 'main');
    const key = readFileSync(ssh.keyFile!, 'utf8');
    const server = /^ssh:\/\/[^@]+@([^:/]+):(\d+)\//.exec(ssh.url!)!;
    const [host, port] = [server[1]!, server[2]!];

    // known_hosts names another host only: this server's key is unknown.
    const unknown = workflow(dir, name, {}, 'known_hosts_env: DAGS_KNOWN_HOSTS');
    const other = otherKey().publicLine;
    const first = await runConfig({ dir, yaml: unknown, env: { ...airflowEnv(airflow2), [KEY_ENV]: key, DAGS_KNOWN_HOSTS: `git.example.com ${other}\n` }, ci: ciContext(), steps: 'deploy', overrides: AIRFLOW });
    expect(first.result.error?.message).toBe(
      `ssh refused ${host}:${port}: its host key is not in DAGS_KNOWN_HOSTS (orchestrator.config.git.known_hosts_env), and host keys are always checked; ` +
        `add the server's line there (e.g. the output of ssh-keyscan -p ${port} ${host}, its fingerprint checked with the server's admin)`,
    );

    // known_hosts has another key for this very server: refused as changed.
    const changed = path.join(dir, 'known_hosts');
    writeFileSync(changed, `[${host}]:${port} ${other}\n`);
    const second = await runConfig({ dir, yaml: workflow(dir, name, {}, 'known_hosts_file: known_hosts'), env: { ...airflowEnv(airflow2), [KEY_ENV]: key }, ci: ciContext(), steps: 'deploy', overrides: AIRFLOW });
    expect(second.result.error?.message).toMatch(new RegExp(`^ssh refused ${host}:${port}: its host key is not the one in known_hosts \\(orchestrator\\.config\\.git\\.known_hosts_file\\)`));

    expect(bare('rev-parse', 'main')).toBe(tip);
    expect((await v1(`dags/${name}`)).status).toBe(404);
    expect(existsSync(path.join(dir, 'prefect_files'))).toBe(false);
  });
});
