import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_TOKEN, GitHubApiServer } from '../action/github/api-server.js';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { pullRequestEnv } from '../helpers/pull-request.js';
import { tunnelsSince } from '../helpers/proxy-log.js';
import { CLI_BUNDLE, runBundledCli } from '../helpers/run-cli.js';
import { selfSignedFor127 } from '../helpers/self-signed.js';
import { FLOWS_PY, gitRepository, service, tempDir } from '../helpers/services.js';

const node24 = service('LOLPOP_TEST_NODE24');
const prefectUrl = service('LOLPOP_TEST_PREFECT_URL');
const pool = service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process';
const proxyUrl = service('LOLPOP_TEST_PROXY_URL');
const proxyLog = service('LOLPOP_TEST_PROXY_LOG');
/** The TLS front of the https test (one of the ports given to this test area). */
const TLS_PORT = 18140;

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
    return runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run' },
      env: {
        ...pullRequestEnv(dir, { repository, number: 5, sha, serverUrl: `file://${root}`, apiUrl: api.urls.api }),
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

  it('an https:// Prefect (a TLS server of the test, its self-signed certificate trusted by NODE_EXTRA_CA_CERTS) with HTTPS_PROXY: every connection is a CONNECT tunnel through the proxy; with NO_PROXY naming it, none', async () => {
    const tls = await TlsForwarder.start(prefectUrl!);
    try {
      const dir = project(`proxy-tls-${uid}`);
      const env = { PREFECT_API_URL: tls.apiUrl, NODE_EXTRA_CA_CERTS: tls.caFile, GITHUB_SERVER_URL: `file://${root}`, GITHUB_REPOSITORY: repository, GITHUB_SHA: sha };
      let from = readFileSync(proxyLog!, 'utf8').length;
      const proxied = await runBundledCli(['build', '-c', 'lolpop.yaml', '--verbose'], dir, { ...env, HTTPS_PROXY: proxyUrl! });
      expect(proxied.code, proxied.stderr + proxied.stdout).toBe(0);
      expect(sentToPrefect(proxied.stdout + proxied.stderr).length).toBeGreaterThan(1);
      expect(tls.requests).toBeGreaterThan(1);
      // One tunnel per TLS connection the server accepted: none came another way.
      expect(tunnels(from)).toEqual(Array.from({ length: tls.connections }, () => tls.host));
      expect(tls.connections).toBeGreaterThan(0);

      from = readFileSync(proxyLog!, 'utf8').length;
      const before = tls.requests;
      const direct = await runBundledCli(['build', '-c', 'lolpop.yaml', '--verbose'], dir, { ...env, https_proxy: proxyUrl!, no_proxy: '127.0.0.1' });
      expect(direct.code, direct.stderr + direct.stdout).toBe(0);
      expect(tls.requests).toBeGreaterThan(before);
      expect(tunnels(from)).toEqual([]);
    } finally {
      await tls.close();
    }
  });
});

const tunnels = (from: number) => tunnelsSince(proxyLog!, from);

/**
 * An https:// front for a plain-http server (Prefect): a self-signed certificate for
 * 127.0.0.1 made with openssl, each request forwarded; it counts TLS connections and requests.
 */
class TlsForwarder {
  private constructor(
    private readonly counts: { connections: number; requests: number },
    private readonly server: https.Server,
    readonly caFile: string,
    readonly host: string,
    readonly apiUrl: string,
  ) {}

  static async start(target: string): Promise<TlsForwarder> {
    const { key, cert, certFile } = selfSignedFor127();
    const upstream = new URL(target);
    const counts = { connections: 0, requests: 0 };
    const server = https.createServer({ key, cert }, (req, res) => {
      counts.requests += 1;
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.writeHead(502).end());
      req.pipe(forward);
    });
    server.on('secureConnection', () => (counts.connections += 1));
    await new Promise<void>((resolve) => server.listen(TLS_PORT, '127.0.0.1', resolve));
    const host = `127.0.0.1:${TLS_PORT}`;
    return new TlsForwarder(counts, server, certFile, host, `https://${host}${upstream.pathname}`);
  }

  get connections(): number {
    return this.counts.connections;
  }

  get requests(): number {
    return this.counts.requests;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
