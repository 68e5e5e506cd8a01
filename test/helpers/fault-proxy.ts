import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the proxy does to one request instead of (or on top of) forwarding it:
 * - reset: close the connection as soon as the request arrives (nothing reaches the server);
 * - drop-after: forward, let the server act, then close the connection without answering;
 * - status: answer 500/502/503 itself (nothing reaches the server);
 * - 429: answer 429 with Retry-After (seconds) itself;
 * - stall-headers: accept and never answer;
 * - stall-body: forward, send the headers and half the body, then nothing more;
 * - json-string / html / empty-object: a 200 the server never sent;
 * - truncated: forward, then a 200 with the first half of the server's JSON (a complete HTTP answer, broken JSON).
 */
export type Fault =
  | { kind: 'reset' }
  | { kind: 'drop-after' }
  | { kind: 'status'; status: number }
  | { kind: '429'; retryAfter: number }
  | { kind: 'stall-headers' }
  | { kind: 'stall-body' }
  | { kind: 'json-string' }
  | { kind: 'html' }
  | { kind: 'empty-object' }
  | { kind: 'truncated' };

export interface ProxiedRequest {
  method: string;
  /** The path on the server, without the query: `/api/admin/version`. */
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface ProxyLogEntry {
  method: string;
  path: string;
  /** The Authorization header the client sent, if any. */
  authorization?: string;
  fault?: string;
}

/** `500`, `429 (Retry-After 1)`, `stall-body`: a fault as a short name, for counts and logs. */
export function faultName(fault: Fault): string {
  if (fault.kind === 'status') return String(fault.status);
  if (fault.kind === '429') return `429 (Retry-After ${fault.retryAfter})`;
  return fault.kind;
}

/**
 * An HTTP proxy in front of a real server that injects faults per request: the
 * `script` decides for each request (undefined: forward it untouched), and
 * `once()` queues faults for the next matching requests, before the script is asked.
 */
export class FaultProxy {
  /** The proxy's URL with the upstream's path: http://127.0.0.1:<port>/api. */
  url = '';
  readonly log: ProxyLogEntry[] = [];
  script: (request: ProxiedRequest) => Fault | undefined = () => undefined;
  private readonly queued: Array<{ fault: Fault; match: (r: ProxiedRequest) => boolean }> = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly upstream: URL;

  constructor(upstreamApiUrl: string) {
    this.upstream = new URL(upstreamApiUrl);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}${this.upstream.pathname.replace(/\/+$/, '')}`;
    return this;
  }

  /** Stalled requests hold their sockets: destroy them all, then close. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next request that matches (by default: any) gets this fault. */
  once(fault: Fault, match: string | RegExp | ((r: ProxiedRequest) => boolean) = () => true): this {
    const test =
      typeof match === 'function' ? match : (r: ProxiedRequest) => (typeof match === 'string' ? `${r.method} ${r.path}` === match : match.test(`${r.method} ${r.path}`));
    this.queued.push({ fault, match: test });
    return this;
  }

  /** Forward everything untouched again. */
  reset(): void {
    this.queued.length = 0;
    this.script = () => undefined;
    this.log.length = 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const request: ProxiedRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, headers: req.headers };
    const index = this.queued.findIndex((q) => q.match(request));
    const fault = index >= 0 ? this.queued.splice(index, 1)[0]!.fault : this.script(request);
    this.log.push({
      method: request.method,
      path: request.path,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(fault ? { fault: faultName(fault) } : {}),
    });
    const body = await readAll(req);
    const json = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    switch (fault?.kind) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'status':
        return json(fault.status, JSON.stringify({ detail: `injected ${fault.status}` }));
      case '429':
        return json(429, JSON.stringify({ detail: 'injected 429' }), { 'retry-after': String(fault.retryAfter) });
      case 'stall-headers':
        return; // the socket stays open until the client gives up or close()
      case 'json-string':
        return json(200, JSON.stringify('ok'));
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html><head><title>Prefect</title></head><body><div id="app"></div></body></html>');
        return;
      case 'empty-object':
        return json(200, '{}');
      default:
        break;
    }
    let answer: { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
    try {
      answer = await this.forward(req, body);
    } catch {
      req.socket.destroy();
      return;
    }
    switch (fault?.kind) {
      case 'drop-after':
        req.socket.destroy();
        return;
      case 'truncated': {
        const half = answer.body.subarray(0, Math.max(1, Math.floor(answer.body.length / 2)));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': half.length });
        res.end(half);
        return;
      }
      case 'stall-body': {
        const half = answer.body.subarray(0, Math.floor(answer.body.length / 2));
        res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': answer.body.length });
        res.write(half); // and never the rest
        return;
      }
      default: {
        const headers = { ...answer.headers };
        for (const hop of ['connection', 'keep-alive', 'transfer-encoding', 'content-length']) delete headers[hop];
        res.writeHead(answer.status, { ...headers, 'content-length': answer.body.length });
        res.end(answer.body);
      }
    }
  }

  private forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.upstream.host };
      delete headers.connection;
      delete headers['accept-encoding']; // plain bodies, so a truncated one is broken JSON, not broken gzip
      const upstream = http.request(
        { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers },
        (response) => {
          readAll(response).then((data) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: data }), reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** A seeded generator (mulberry32): the same seed, the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
