import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_TOKEN, GitHubApiServer } from '../action/github/api-server.js';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { CLI_BUNDLE, runBundledCli } from '../helpers/run-cli.js';
import { FLOWS_PY, gitRepository, service, tempDir } from '../helpers/services.js';

const node24 = service('LOLPOP_TEST_NODE24');
const prefectUrl = service('LOLPOP_TEST_PREFECT_URL');
const pool = service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process';
const proxyUrl = service('LOLPOP_TEST_PROXY_URL');
const proxyLog = service('LOLPOP_TEST_PROXY_LOG');

/** What tinyproxy forwarded since `from` (a log offset): "METHOD host:port/path" per request, one "Request" line each. */
function forwarded(from: number): string[] {
  const text = readFileSync(proxyLog!, 'utf8').slice(from);
  return [...text.matchAll(/Request \(file descriptor \d+\): (\S+) http:\/\/(\S+) HTTP/g)].map((m) => `${m[1]} ${m[2]}`);
}

/** What the tool itself says it sent to Prefect (its debug lines: "prefect: GET /api/… → 200"), as forwarded() shows them. */
function sentToPrefect(log: string): string[] {
  const host = new URL(prefectUrl!).host;
  return [...log.matchAll(/prefect: (GET|POST|PATCH|PUT|DELETE) (\/\S*) → /g)].map((m) => `${m[1]} ${host}${m[2]}`);
}

const sorted = (list: string[]) => [...list].sort();

// A real forward proxy (tinyproxy, scripts/proxy-services.sh) in front of the real Prefect
// server and the GitHub stand-in: the bundled action under Node 24 and the bundled CLI.
describe.skipIf(!node24 || !prefectUrl || !proxyUrl || !proxyLog)('HTTP_PROXY / HTTPS_PROXY / NO_PROXY (either case)', () => {
  let api: GitHubApiServer;
  let root: string;
  let sha: string;
  const uid = randomUUID().slice(0, 6);
  const repository = `acme/proxy-${uid}`;

  beforeAll(async () => {
    expect(existsSync(BUNDLE) && existsSync(CLI_BUNDLE), 'dist/ must be built (npm run bundle)').toBe(true);
    api = await GitHubApiServer.start();
    root = tempDir('gh');
    sha = gitRepository(root, repository, { 'flows/flows.py': FLOWS_PY });
  });
  afterAll(() => api?.close());

  function project(name: string): string {
    const dir = tempDir('proxy');
    writeFileSync(
      path.join(dir, 'lolpop.yaml'),
      `decorator: {orchestrator: PrefectOrchestrator}\norchestrator:\n  deployment:\n    name: ${name}\n    deploy: {work_pool: ${pool}, flow_entrypoint: "flows/flows.py:hello"}\n    run: {wait: true, wait_timeout: 150s, poll_interval: 1s}\n`,
    );
    return dir;
  }

  function action(dir: string, proxyEnv: Record<string, string>) {
    const eventPath = path.join(dir, 'event.json');
    const repo = { full_name: repository, fork: false, default_branch: 'main' };
    writeFileSync(eventPath, JSON.stringify({ action: 'synchronize', number: 5, pull_request: { number: 5, head: { sha, repo }, base: { repo } }, repository: repo }));
    return runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run' },
      env: {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_SHA: sha,
        GITHUB_REF: 'refs/pull/5/merge',
        GITHUB_REPOSITORY: repository,
        GITHUB_SERVER_URL: `file://${root}`,
        GITHUB_API_URL: api.urls.api,
        GITHUB_RUN_ID: randomUUID(),
        GITHUB_RUN_ATTEMPT: '1',
        PREFECT_API_URL: prefectUrl!,
        ...proxyEnv,
      },
      comments: () => api.comments.map((c) => c.body),
    });
  }

  it('the action with HTTP_PROXY and HTTPS_PROXY: every request to Prefect and to GitHub goes through the proxy', async () => {
    const from = readFileSync(proxyLog!, 'utf8').length;
    const before = api.requests.length;
    const result = await action(project(`proxy-up-${uid}`), { HTTP_PROXY: proxyUrl!, HTTPS_PROXY: proxyUrl! });
    expect(result.status, result.log).toBe(0);
    expect(result.outputs['run-state']).toBe('COMPLETED');
    const through = forwarded(from);
    const github = new URL(api.urls.api).host;
    const toGitHub = api.requests.length - before;
    expect(toGitHub).toBeGreaterThan(0);
    // Every request the GitHub stand-in answered came through the proxy; every request the tool sent to Prefect too.
    expect(through.filter((r) => r.split(' ')[1]!.startsWith(`${github}/`))).toHaveLength(toGitHub);
    const prefect = sentToPrefect(result.log);
    expect(prefect.length).toBeGreaterThan(3);
    expect(sorted(through.filter((r) => r.split(' ')[1]!.startsWith(`${new URL(prefectUrl!).host}/`)))).toEqual(sorted(prefect));
    expect(through).toHaveLength(toGitHub + prefect.length);
  });

  it('the action with http_proxy and no_proxy naming the GitHub API: Prefect through the proxy, GitHub directly', async () => {
    const from = readFileSync(proxyLog!, 'utf8').length;
    const before = api.requests.length;
    const github = new URL(api.urls.api).host;
    const result = await action(project(`proxy-low-${uid}`), { http_proxy: proxyUrl!, no_proxy: `localhost,${github}` });
    expect(result.status, result.log).toBe(0);
    expect(api.requests.length - before).toBeGreaterThan(0);
    const through = forwarded(from);
    expect(through.filter((r) => r.includes(github))).toEqual([]);
    const prefect = sentToPrefect(result.log);
    expect(prefect.length).toBeGreaterThan(3);
    expect(sorted(through)).toEqual(sorted(prefect));
  });

  it('the CLI with HTTP_PROXY (its own Node): every request to Prefect through the proxy; with NO_PROXY naming it, none', async () => {
    const dir = project(`proxy-cli-${uid}`);
    const env = { PREFECT_API_URL: prefectUrl!, GITHUB_SERVER_URL: `file://${root}`, GITHUB_REPOSITORY: repository, GITHUB_SHA: sha };
    let from = readFileSync(proxyLog!, 'utf8').length;
    const proxied = await runBundledCli(['build', '-c', 'lolpop.yaml', '--verbose'], dir, { ...env, HTTP_PROXY: proxyUrl! });
    expect(proxied.code, proxied.stderr + proxied.stdout).toBe(0);
    const prefect = sentToPrefect(proxied.stdout + proxied.stderr);
    expect(prefect.length).toBeGreaterThan(1);
    expect(sorted(forwarded(from))).toEqual(sorted(prefect));

    from = readFileSync(proxyLog!, 'utf8').length;
    const direct = await runBundledCli(['build', '-c', 'lolpop.yaml', '--verbose'], dir, { ...env, HTTP_PROXY: proxyUrl!, NO_PROXY: new URL(prefectUrl!).hostname });
    expect(direct.code, direct.stderr + direct.stdout).toBe(0);
    expect(sentToPrefect(direct.stdout + direct.stderr).length).toBeGreaterThan(1);
    expect(forwarded(from)).toEqual([]);
  });
});
