import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { CLI_BUNDLE, runBundledCli } from '../helpers/run-cli.js';
import { service, tempDir } from '../helpers/services.js';
import { REPO } from '../local/example.js';
import { GITHUB_TOKEN, GitHubApiServer } from './github/api-server.js';

const node24 = service('LOLPOP_TEST_NODE24');

/** One team's workflow on the local orchestrator: the quickstart runner, its own module and config; shared/ is its own too. */
const workflow = (team: string) => `
orchestrator:
  deployment:
    name: ${team}
    type: local
    package:
      lolpop_class: QuickstartRunner
      lolpop_module: ${team}_runner
      lolpop_entrypoint: build_all
      prefect_files: teams/${team}/
      config_file: teams/${team}/dev.yaml
      copy_files: [train.csv, test.csv]
      lolpop_install_location: ""
    deploy:
      watch_files: ["shared/**"]
`;

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', '-c', 'protocol.file.allow=always', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

// changed-only with a real git history: a monorepo of two workflows (alpha, beta) in a bare
// repository playing origin, three commits (c0 all; c1 alpha's runner; c2 shared/, which both
// list in deploy.watch_files), checked out whole or shallow as actions/checkout does, run
// through the bundled action under Node 24 and the bundled CLI on the local orchestrator.
describe.skipIf(!node24)('changed-only: a monorepo with a real git history', () => {
  let origin: string;
  let api: GitHubApiServer;
  const c: string[] = [];
  const repository = `acme/mono-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    expect(existsSync(CLI_BUNDLE), 'dist/cli/index.js must be built (npm run bundle)').toBe(true);
    api = await GitHubApiServer.start();
    const work = tempDir('mono-src');
    git(work, 'init', '-q', '-b', 'main');
    const quickstart = (file: string) => readFileSync(path.join(REPO, 'examples/quickstart', file), 'utf8');
    const files: Record<string, string> = { 'train.csv': quickstart('train.csv'), 'test.csv': quickstart('test.csv'), 'shared/features.py': 'FEATURES = ["amount", "hour"]\n', 'README.md': '# mono\n' };
    for (const team of ['alpha', 'beta']) {
      files[`${team}_runner.py`] = quickstart('quickstart_runner.py');
      files[`teams/${team}/lolpop.yaml`] = workflow(team);
      files[`teams/${team}/dev.yaml`] = quickstart('dev.yaml');
    }
    const commit = (changes: Record<string, string>, message: string) => {
      for (const [name, content] of Object.entries(changes)) {
        mkdirSync(path.dirname(path.join(work, name)), { recursive: true });
        writeFileSync(path.join(work, name), content);
      }
      git(work, 'add', '.');
      git(work, 'commit', '-q', '-m', message);
      c.push(git(work, 'rev-parse', 'HEAD'));
    };
    commit(files, 'two workflows');
    commit({ 'alpha_runner.py': `${files['alpha_runner.py']}\n# alpha: a faster trainer\n` }, "alpha's runner");
    commit({ 'shared/features.py': 'FEATURES = ["amount", "hour", "day"]\n' }, 'shared features');
    origin = path.join(tempDir('mono-origin'), 'mono.git');
    git(work, 'clone', '-q', '--bare', work, origin);
    // The branch a pull request would come from: alpha's change only.
    git(origin, 'branch', 'alpha-change', c[1]!);
  });
  afterAll(() => api?.close());

  /** A checkout of `branch` from origin, as actions/checkout makes it: whole (fetch-depth: 0) or of one commit. */
  function checkout(branch: string, depth?: number): string {
    const dir = path.join(tempDir('mono'), 'repo');
    git(path.dirname(dir), 'clone', '-q', ...(depth ? [`--depth=${depth}`] : []), '--branch', branch, `file://${origin}`, dir);
    return dir;
  }

  function action(dir: string, event: 'pull_request' | 'push', payload: object, inputs: Record<string, string> = {}) {
    const eventPath = path.join(path.dirname(dir), 'event.json');
    writeFileSync(eventPath, JSON.stringify(payload));
    return runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run', config: 'teams/*/lolpop.yaml', 'changed-only': 'true', ...inputs },
      env: {
        GITHUB_EVENT_NAME: event,
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_SHA: git(dir, 'rev-parse', 'HEAD'),
        GITHUB_REF: event === 'push' ? 'refs/heads/main' : 'refs/pull/7/merge',
        GITHUB_REPOSITORY: repository,
        GITHUB_API_URL: api.urls.api,
        GITHUB_RUN_ID: randomUUID(),
        GITHUB_RUN_ATTEMPT: '1',
      },
      comments: () => api.comments.map((x) => x.body),
    });
  }

  const statuses = (outputs: Record<string, string>) =>
    Object.fromEntries(Object.entries(JSON.parse(outputs.results!) as Record<string, { status: string; skipped?: string; 'run-state'?: string }>).map(([k, v]) => [k, [v.status, v.skipped ?? v['run-state']]]));

  it("a pull request that changes alpha's runner deploys and runs alpha only; beta is listed as skipped in the summary, the comment and the results", async () => {
    const dir = checkout('alpha-change');
    const repo = { full_name: repository, fork: false, default_branch: 'main' };
    const pr = { number: 7, head: { sha: c[1], repo }, base: { sha: c[0], repo } };
    const result = await action(dir, 'pull_request', { action: 'synchronize', number: 7, pull_request: pr, repository: repo });
    expect(result.status, result.log).toBe(0);
    const since = `unchanged since ${c[0]!.slice(0, 7)}`;
    expect(statuses(result.outputs)).toEqual({ alpha: ['succeeded', 'COMPLETED'], beta: ['skipped', since] });
    expect(result.log).toContain('alpha: alpha_runner.py changed since');
    expect(result.summary).toContain(`⏭️ skipped (${since})`);
    const comment = api.commentsOn(repository, 7).at(-1)!.body;
    expect(comment.split('\n').find((l) => l.startsWith('| beta'))).toContain(`⏭️ skipped (${since})`);
    // Only alpha has a deployment on the local orchestrator.
    expect(existsSync(path.join(dir, '.lolpop-deploy/deployments/alpha.json'))).toBe(true);
    expect(existsSync(path.join(dir, '.lolpop-deploy/deployments/beta.json'))).toBe(false);
  });

  it('the CLI: a change to shared/ (watch_files of both) deploys both; no change since --base skips both', async () => {
    const dir = checkout('main');
    const both = await runBundledCli(['up', '-c', 'teams/*/lolpop.yaml', '--steps', 'deploy', '--changed-only', '--base', c[1]!], dir, {});
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toContain('== alpha: succeeded');
    expect(both.stdout).toContain('== beta: succeeded');
    expect(both.stderr).toContain('beta: shared/features.py changed since');
    const none = await runBundledCli(['up', '-c', 'teams/*/lolpop.yaml', '--steps', 'deploy', '--changed-only', '--base', 'main'], dir, {});
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain(`== alpha: skipped (unchanged since ${c[2]!.slice(0, 7)})`);
    expect(none.stdout).toContain(`== beta: skipped (unchanged since ${c[2]!.slice(0, 7)})`);
  });

  it('a shallow clone (fetch-depth 1) without the base commit: it is fetched alone, and only alpha deploys', async () => {
    const dir = checkout('alpha-change', 1);
    expect(() => git(dir, 'cat-file', '-e', `${c[0]}^{commit}`)).toThrow();
    const result = await action(dir, 'push', { ref: 'refs/heads/alpha-change', before: c[0], after: c[1] }, { comment: 'never' });
    expect(result.status, result.log).toBe(0);
    expect(statuses(result.outputs)).toEqual({ alpha: ['succeeded', 'COMPLETED'], beta: ['skipped', `unchanged since ${c[0]!.slice(0, 7)}`] });
    expect(result.log).not.toContain('changed-only: deploying every workflow');
    // Fetched alone: the clone is still shallow.
    expect(git(dir, 'rev-parse', '--is-shallow-repository')).toBe('true');
  });

  it('a base commit that cannot be fetched: every workflow deploys, with a notice naming the fetch-depth', async () => {
    const dir = checkout('alpha-change', 1);
    const gone = 'f'.repeat(40);
    const result = await action(dir, 'push', { ref: 'refs/heads/alpha-change', before: gone, after: c[1] }, { comment: 'never' });
    expect(result.status, result.log).toBe(0);
    expect(statuses(result.outputs)).toEqual({ alpha: ['succeeded', 'COMPLETED'], beta: ['succeeded', 'COMPLETED'] });
    const notice = result.log.split('\n').find((l) => l.includes('changed-only: deploying every workflow'));
    expect(notice).toMatch(/commit ffffffffffff is not in this clone and fetching it failed \(.+\); check out with fetch-depth: 0/);
    expect(result.summary).toContain('fetch-depth: 0');
  });
});
