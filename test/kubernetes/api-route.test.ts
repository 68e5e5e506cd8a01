import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesClient } from '../../src/kubernetes/client.js';
import { loadKubeconfig, type ClusterAccess } from '../../src/kubernetes/kubeconfig.js';
import { MemoryLogger } from '../../src/logger.js';
import { closedPort } from '../helpers/closed-port.js';
import { kubeStandIn } from '../helpers/kube-stand-in.js';

// Which way the Kubernetes client goes (kubeconfig proxy-url, else the proxy variables and
// NO_PROXY, else directly) and what its errors say. The proxies here are small CONNECT
// proxies of the test that record what they were asked; the real tinyproxy in front of
// the real cluster (TLS inside the tunnel) is test/kubernetes/proxy.itg.test.ts.

/** A forward proxy that records each CONNECT ("host:port") and its Proxy-Authorization, and answers `status` (200: the tunnel). */
async function connectProxy(status = 200): Promise<{ url: string; tunnels: string[]; auth: (string | undefined)[]; close: () => Promise<void> }> {
  const tunnels: string[] = [];
  const auth: (string | undefined)[] = [];
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, socket) => {
    tunnels.push(req.url!);
    auth.push(req.headers['proxy-authorization']);
    if (status !== 200) {
      socket.end(`HTTP/1.1 ${status} No\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    auth,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

describe('the route to the API server', () => {
  let api: Awaited<ReturnType<typeof kubeStandIn>>;
  let server: string;
  beforeAll(async () => {
    api = await kubeStandIn();
    server = loadKubeconfig(api.kubeconfig).server;
  });
  afterAll(() => api.close());
  afterEach(() => vi.unstubAllEnvs());

  /** No proxy variable from the machine running the tests. */
  function cleanEnv(values: Record<string, string> = {}): void {
    for (const name of PROXY_VARIABLES) vi.stubEnv(name, undefined);
    for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
  }

  async function call(access: Partial<ClusterAccess> = {}, logger = new MemoryLogger()): Promise<{ error?: Error; logger: MemoryLogger }> {
    const client = new KubernetesClient({ ...loadKubeconfig(api.kubeconfig), ...access }, logger);
    try {
      await client.get('/api/v1/namespaces/lolpop');
      return { logger };
    } catch (error) {
      return { error: error as Error, logger };
    } finally {
      client.close();
    }
  }

  it('HTTP_PROXY (an http:// server): the call goes through a CONNECT tunnel to the server', async () => {
    const proxy = await connectProxy();
    try {
      cleanEnv({ HTTP_PROXY: proxy.url });
      const before = api.requests.length;
      expect((await call()).error).toBeUndefined();
      expect(api.requests.length).toBe(before + 1);
      expect(proxy.tunnels).toEqual([new URL(server).host]);
    } finally {
      await proxy.close();
    }
  });

  it('HTTPS_PROXY alone does not apply to an http:// server (curl\'s rule): it is reached directly', async () => {
    const proxy = await connectProxy();
    try {
      cleanEnv({ HTTPS_PROXY: proxy.url });
      expect((await call()).error).toBeUndefined();
      expect(proxy.tunnels).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('NO_PROXY / no_proxy naming the server\'s host: directly, the proxy never asked', async () => {
    const proxy = await connectProxy();
    try {
      for (const noProxy of [{ NO_PROXY: '127.0.0.1' }, { no_proxy: `localhost,${new URL(server).host}` }, { NO_PROXY: '*' }] as Record<string, string>[]) {
        cleanEnv({ http_proxy: proxy.url, ...noProxy });
        expect((await call()).error).toBeUndefined();
      }
      expect(proxy.tunnels).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('the kubeconfig\'s proxy-url wins over HTTP_PROXY and is not bypassed by NO_PROXY (as kubectl); its credentials go to the proxy and are secrets', async () => {
    const [mine, environment] = [await connectProxy(), await connectProxy()];
    try {
      cleanEnv({ HTTP_PROXY: environment.url, NO_PROXY: '127.0.0.1' });
      const withCredentials = mine.url.replace('//', '//ann:s%3Acret@');
      const { error, logger } = await call({ proxyUrl: withCredentials });
      expect(error).toBeUndefined();
      expect(mine.tunnels).toEqual([new URL(server).host]);
      expect(environment.tunnels).toEqual([]);
      expect(mine.auth).toEqual([`Basic ${Buffer.from('ann:s:cret').toString('base64')}`]);
      expect(logger.redact(`s:cret s%3Acret ${Buffer.from('ann:s:cret').toString('base64')}`)).not.toMatch(/cret|YW5uOnM6Y3JldA/);
    } finally {
      await Promise.all([mine.close(), environment.close()]);
    }
  });

  it('an unreachable proxy: one line naming the proxy (no credentials) and where it was set, and the server, at once', async () => {
    const port = await closedPort();
    cleanEnv({ HTTP_PROXY: `http://ann:s3cret@127.0.0.1:${port}` });
    const started = Date.now();
    const { error, logger } = await call();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error!.message).toBe(
      `the Kubernetes API at ${server} (${api.kubeconfig} (context t)) is not reachable: the proxy http://127.0.0.1:${port} (HTTP_PROXY) is not reachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(logger.redact('s3cret')).toBe('***');
  });

  it('the same from the kubeconfig: the proxy is named as its proxy-url', async () => {
    const port = await closedPort();
    cleanEnv();
    const { error } = await call({ proxyUrl: `http://ann:s3cret@127.0.0.1:${port}/` });
    expect(error!.message).toBe(
      `the Kubernetes API at ${server} (${api.kubeconfig} (context t)) is not reachable: the proxy http://127.0.0.1:${port} (proxy-url of ${api.kubeconfig} (context t)) is not reachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it('a proxy that refuses the CONNECT (403; 407 says to check the credentials): one line with its answer', async () => {
    const [forbidden, authRequired] = [await connectProxy(403), await connectProxy(407)];
    try {
      cleanEnv({ http_proxy: forbidden.url });
      const host = new URL(server).host;
      expect((await call()).error!.message).toBe(
        `the Kubernetes API at ${server} (${api.kubeconfig} (context t)) is not reachable through the proxy ${forbidden.url} (http_proxy): the proxy answered the CONNECT to ${host} with HTTP 403`,
      );
      cleanEnv();
      const { error } = await call({ proxyUrl: authRequired.url.replace('//', '//ann:s3cret@') });
      expect(error!.message).toBe(
        `the Kubernetes API at ${server} (${api.kubeconfig} (context t)) is not reachable through the proxy ${authRequired.url} (proxy-url of ${api.kubeconfig} (context t)): the proxy answered the CONNECT to ${host} with HTTP 407 (Proxy Authentication Required: check the proxy URL's user and password)`,
      );
      expect(error!.message).not.toContain('s3cret');
    } finally {
      await Promise.all([forbidden.close(), authRequired.close()]);
    }
  });

  it('a proxy that takes the connection and never answers the CONNECT: the call ends at its 30 s bound, saying so and naming the proxy', async () => {
    const held = new Set<Socket>();
    const silent = createServer();
    silent.on('connect', (_req, socket: Socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      cleanEnv({ HTTP_PROXY: url });
      const started = Date.now();
      const { error } = await call();
      expect(Date.now() - started).toBeGreaterThanOrEqual(29_000);
      expect(Date.now() - started).toBeLessThan(40_000);
      expect(error!.message).toBe(
        `the Kubernetes API at ${server} (${api.kubeconfig} (context t)) did not answer GET /api/v1/namespaces/lolpop within 30 s through the proxy ${url} (HTTP_PROXY)`,
      );
    } finally {
      for (const socket of held) socket.destroy();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 45_000);

  it('a direct route that fails says so without naming any proxy', async () => {
    const port = await closedPort();
    cleanEnv({ HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' });
    const { error } = await call({ server: `http://127.0.0.1:${port}` });
    expect(error!.message).toBe(`the Kubernetes API at http://127.0.0.1:${port} (${api.kubeconfig} (context t)) is not reachable: connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});
