import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { PrefectClient } from '../../src/orchestrators/prefect/client.js';
import { resolveConnection } from '../../src/orchestrators/prefect/connection.js';
import { standIn, type StandIn } from './http-stand-ins.js';

/**
 * Issue 19, "Nothing bounds bytes read" (HTTP bodies), and two mislabelled messages:
 * a drip that outlasts the call's budget, and an XML answer.
 */
const servers: StandIn[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const MiB = 2 ** 20;

function client(url: string, options: Partial<ConstructorParameters<typeof PrefectClient>[1]> = {}): PrefectClient {
  return new PrefectClient(resolveConnection({ PREFECT_API_URL: `${url}/api`, PREFECT_HOME: '/nonexistent' }), { logger: new MemoryLogger(), backoffLimitMs: 10, ...options });
}

describe('bounded answers', () => {
  it('a 500 MB answer is refused after 16 MiB, unretried, the rest never sent, memory bounded', async () => {
    let sent = 0;
    const chunk = Buffer.alloc(MiB, 0x20);
    const server = await standIn((_req, res) => {
      // No Content-Length: only counting what arrives can stop it.
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = (): void => {
        while (sent < 500 * MiB) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    servers.push(server);
    const before = process.memoryUsage().rss;
    const error = (await client(server.url).serverVersion().catch((e: Error) => e)) as Error;
    const grown = process.memoryUsage().rss - before;
    expect(error.message).toBe(`Failed to read the server version: the Prefect API at ${server.url}/api answered more than 16 MiB to GET /admin/version; refused (a JSON answer this tool reads is far smaller)`);
    expect(server.received).toHaveLength(1);
    // What the kernel's buffers held when the body was cancelled, not 500 MB.
    expect(sent).toBeLessThan(64 * MiB);
    expect(grown).toBeLessThan(200 * MiB);
  });

  it('a Content-Length above the bound is refused before a byte of the body is read', async () => {
    const server = await standIn((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(500 * MiB) });
      res.write('"3.');
    });
    servers.push(server);
    await expect(client(server.url).serverVersion()).rejects.toThrow(/answered more than 16 MiB to GET \/admin\/version; refused/);
  });

  it('a body that drips within the per-chunk limit but outlasts the budget says the budget ran out, not "stopped for"', async () => {
    const server = await standIn((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('"');
      const drip = setInterval(() => res.write('3'), 100);
      res.on('close', () => clearInterval(drip));
    });
    servers.push(server);
    const error = (await client(server.url, { bodyTimeoutMs: 1000, headersTimeoutMs: 1000, budgetMs: 1500 }).serverVersion().catch((e: Error) => e)) as Error;
    expect(error.message.startsWith(
      `Failed to read the server version: the Prefect API at ${server.url}/api was too slow: the answer to GET /admin/version was not complete when the 1.5 s budget ran out `,
    ), error.message).toBe(true);
    // A chunk every 0.1 s: the last pause is short (a stall would show its length here).
    expect(error.message).toMatch(/\(nothing had arrived for 0(\.\d)? s\)$/);
  });

  it('an XML answer is called XML, not HTML', async () => {
    const server = await standIn((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>');
    });
    servers.push(server);
    await expect(client(server.url).serverVersion()).rejects.toThrow(
      `Failed to read the server version: Prefect answered 200 to GET /admin/version with XML, not JSON (<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>); is PREFECT_API_URL the API (ending in /api), not the UI?`,
    );
  });
});
