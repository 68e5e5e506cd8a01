import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/closed-port.js';
import { CLI_BUNDLE, runBundledCli, type CliRun } from '../helpers/run-cli.js';
import { proxyLogEnd, tunnelsSince } from '../helpers/proxy-log.js';
import { selfSignedFor127 } from '../helpers/self-signed.js';
import { service, tempDir } from '../helpers/services.js';
import { KubernetesClient } from '../../src/kubernetes/client.js';
import { loadKubeconfig } from '../../src/kubernetes/kubeconfig.js';
import { MemoryLogger } from '../../src/logger.js';
import { k8sServices } from './cluster.js';

// The Kubernetes API client behind a real forward proxy: the bundled CLI's `plan` (the
// server's dry run of every object, over TLS with the cluster's CA and token) against the
// real cluster of scripts/k8s-services.sh, through the real tinyproxy of
// scripts/proxy-services.sh, which logs one line per CONNECT it is asked for.
const apiUrl = service('LOLPOP_TEST_PREFECT_URL');
const proxyUrl = service('LOLPOP_TEST_PROXY_URL');
const proxyLog = service('LOLPOP_TEST_PROXY_LOG');
const k8s = k8sServices();

const uid = randomUUID().slice(0, 6);
/** A password in the proxy URL: tinyproxy (no BasicAuth) ignores it; it must never be printed. */
const PROXY_PASSWORD = `pw-${uid}-proxy`;

describe.skipIf(!apiUrl || !proxyUrl || !proxyLog || !k8s)('the Kubernetes API through an HTTP proxy (kubeconfig proxy-url, HTTPS_PROXY, NO_PROXY)', () => {
  let server: URL;
  let dir: string;

  beforeAll(() => {
    expect(existsSync(CLI_BUNDLE), 'dist/ must be built (npm run bundle)').toBe(true);
    server = new URL(k8s!.client.server);
    dir = tempDir('k8s-proxy');
    // The plan of a static kubernetes deploy into `default`: nothing is applied, every object is dry-run by the server.
    writeFileSync(
      path.join(dir, 'lolpop.yaml'),
      `decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  config: {prefect_settings: {PREFECT_API_URL: "${apiUrl}"}}
  deployment:
    name: k8s-proxy-${uid}
    type: kubernetes
    package: {docker_image_tag: "lolpop-k8s-proxy:${uid}"}
    deploy: {namespace: default}
`,
    );
  });

  /** A copy of the cluster's kubeconfig with `cluster` merged into its cluster entry (e.g. a proxy-url). */
  function kubeconfigWith(cluster: Record<string, unknown>): string {
    const config = parse(readFileSync(k8s!.kubeconfig, 'utf8')) as { clusters: Array<{ cluster: Record<string, unknown> }> };
    for (const entry of config.clusters) Object.assign(entry.cluster, cluster);
    const file = path.join(tempDir('kubeconfig'), 'config');
    writeFileSync(file, stringify(config));
    return file;
  }

  const plan = (env: Record<string, string>): Promise<CliRun> =>
    runBundledCli(['plan', '-c', 'lolpop.yaml', '--steps', 'deploy'], dir, { KUBECONFIG: k8s!.kubeconfig, ...env });
  const accepted = (run: CliRun) => expect(run.stdout + run.stderr).toContain(`the server's dry run (dryRun=All) at ${server.origin} accepts them`);
  /** What the CLI says went wrong (stderr's `error:` lines; stdout's table repeats it in its row). */
  const errorLines = (run: CliRun) => run.stderr.split('\n').filter((l) => l.startsWith('error:'));
  const withPassword = (url: string) => url.replace('//', `//lolpop:${PROXY_PASSWORD}@`);

  it('HTTPS_PROXY: every call to the API server goes through a CONNECT tunnel of the proxy (TLS to the server inside it); the proxy password is never printed', async () => {
    const from = proxyLogEnd(proxyLog!);
    const run = await plan({ HTTPS_PROXY: withPassword(proxyUrl!) });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    accepted(run);
    const tunnels = tunnelsSince(proxyLog!, from).filter((t) => t === server.host);
    expect(tunnels.length).toBeGreaterThan(0);
    expect(run.stdout + run.stderr).not.toContain(PROXY_PASSWORD);
  });

  it("the kubeconfig's proxy-url, no proxy variable: through the proxy as well", async () => {
    const from = proxyLogEnd(proxyLog!);
    const run = await plan({ KUBECONFIG: kubeconfigWith({ 'proxy-url': withPassword(proxyUrl!) }) });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    accepted(run);
    expect(tunnelsSince(proxyLog!, from)).toContain(server.host);
    expect(run.stdout + run.stderr).not.toContain(PROXY_PASSWORD);
  });

  it("NO_PROXY naming the API server's host: reached directly (no CONNECT to it); the kubeconfig's proxy-url is not bypassed by it (as in kubectl)", async () => {
    let from = proxyLogEnd(proxyLog!);
    const direct = await plan({ HTTPS_PROXY: proxyUrl!, NO_PROXY: `localhost,${server.hostname}` });
    expect(direct.code, direct.stderr + direct.stdout).toBe(0);
    accepted(direct);
    expect(tunnelsSince(proxyLog!, from).filter((t) => t === server.host)).toEqual([]);

    from = proxyLogEnd(proxyLog!);
    const viaKubeconfig = await plan({ KUBECONFIG: kubeconfigWith({ 'proxy-url': proxyUrl! }), NO_PROXY: server.hostname, HTTPS_PROXY: 'http://127.0.0.1:9' });
    expect(viaKubeconfig.code, viaKubeconfig.stderr + viaKubeconfig.stdout).toBe(0);
    accepted(viaKubeconfig);
    expect(tunnelsSince(proxyLog!, from)).toContain(server.host);
  });

  it("an https:// proxy (a TLS front of the test before tinyproxy, trusted by NODE_EXTRA_CA_CERTS, not the cluster's CA): TLS to the proxy, then the API server's own TLS inside the tunnel", async () => {
    const front = await tlsFrontOf(new URL(proxyUrl!));
    try {
      const from = proxyLogEnd(proxyLog!);
      const run = await plan({ HTTPS_PROXY: front.url, NODE_EXTRA_CA_CERTS: front.certFile });
      expect(run.code, run.stderr + run.stdout).toBe(0);
      accepted(run);
      expect(front.connections()).toBeGreaterThan(0);
      expect(tunnelsSince(proxyLog!, from)).toContain(server.host);
    } finally {
      front.close();
    }
  });

  it("every call of the client (apply, get, merge patch, text, delete) through the kubeconfig's proxy-url, with the cluster's CA and token inside the tunnel", async () => {
    const from = proxyLogEnd(proxyLog!);
    const client = new KubernetesClient(loadKubeconfig(kubeconfigWith({ 'proxy-url': withPassword(proxyUrl!) })), new MemoryLogger());
    const path = `/api/v1/namespaces/default/configmaps/k8s-proxy-${uid}`;
    try {
      await client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `k8s-proxy-${uid}`, namespace: 'default' }, data: { via: 'proxy' } });
      expect(await client.mergePatch(path, { data: { via: 'proxy, patched' } })).toBe(true);
      expect((await client.get<{ data: Record<string, string> }>(path))?.data).toEqual({ via: 'proxy, patched' });
      expect(await client.text('/readyz')).toBe('ok');
      expect(await client.delete(path)).toBe(true);
      expect(await client.get(path)).toBeUndefined();
    } finally {
      client.close();
    }
    // proxy-url is the only route (no direct fallback): the tunnels (connections are kept alive, so one may carry several calls) are the proxy's.
    expect(tunnelsSince(proxyLog!, from).filter((t) => t === server.host).length).toBeGreaterThan(0);
  });

  it('an unreachable proxy (a closed port): one line naming the proxy, without its password, and the API server, at once', async () => {
    const port = await closedPort();
    const started = Date.now();
    const run = await plan({ HTTPS_PROXY: `http://lolpop:${PROXY_PASSWORD}@127.0.0.1:${port}` });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.code).not.toBe(0);
    const lines = errorLines(run);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `error: the Kubernetes API at ${server.origin} (${k8s!.kubeconfig} (context lolpop-ci)) is not reachable: the proxy http://127.0.0.1:${port} (HTTPS_PROXY) is not reachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(run.stdout + run.stderr).not.toContain(PROXY_PASSWORD);
  });

  it('a proxy that refuses the CONNECT (tinyproxy cannot reach the server named: its HTTP 500): one line naming the proxy, the server and the answer', async () => {
    const port = await closedPort();
    const from = proxyLogEnd(proxyLog!);
    const kubeconfig = kubeconfigWith({ 'proxy-url': withPassword(proxyUrl!), server: `https://127.0.0.1:${port}` });
    const started = Date.now();
    const run = await plan({ KUBECONFIG: kubeconfig });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.code).not.toBe(0);
    // The proxy was asked (its log says so) and said no.
    expect(tunnelsSince(proxyLog!, from)).toContain(`127.0.0.1:${port}`);
    const lines = errorLines(run);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `error: the Kubernetes API at https://127.0.0.1:${port} (${kubeconfig} (context lolpop-ci)) is not reachable through the proxy ${proxyUrl} (proxy-url of ${kubeconfig} (context lolpop-ci)): the proxy answered the CONNECT to 127.0.0.1:${port} with HTTP 500`,
    );
    expect(run.stdout + run.stderr).not.toContain(PROXY_PASSWORD);
  });
});

/**
 * An https:// proxy: a TLS listener on loopback (a self-signed certificate for 127.0.0.1)
 * whose connections are piped, decrypted, to the real tinyproxy; it counts them.
 */
async function tlsFrontOf(proxy: URL): Promise<{ url: string; certFile: string; connections: () => number; close: () => void }> {
  const { key, cert, certFile } = selfSignedFor127();
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key, cert }, (socket) => {
    connections += 1;
    const upstream = connect(Number(proxy.port), proxy.hostname);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    certFile,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
