import { Readable } from 'node:stream';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { defaultFetch, proxyConfigured } from '../../http/proxy.js';

/** What the SDK hands a request handler (@smithy's HttpRequest), as far as this handler reads it. */
interface SdkRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/** Headers fetch sets itself from the URL and the body: sending the SDK's copies could contradict them. */
const FETCH_OWNED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);

/**
 * The S3 client's transport. Without HTTP(S)_PROXY it is the SDK's own Node handler with
 * these time limits. With a proxy, requests go through the project's one proxy-aware fetch
 * (src/http/proxy.ts: undici's EnvHttpProxyAgent, NO_PROXY included), so the bucket is
 * reached the way every other API is; the SDK's own handler opens direct connections.
 */
export function s3RequestHandler(connectTimeoutMs: number, requestTimeoutMs: number): S3ClientConfig['requestHandler'] {
  if (!proxyConfigured()) return { connectionTimeout: connectTimeoutMs, requestTimeout: requestTimeoutMs };
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    handle: async (request: SdkRequest, options?: { abortSignal?: AbortSignal }) => {
      const signals = [AbortSignal.timeout(requestTimeoutMs), ...(options?.abortSignal ? [options.abortSignal] : [])];
      const headers = Object.entries(request.headers).filter(([name]) => !FETCH_OWNED_HEADERS.has(name.toLowerCase()));
      const body = requestBody(request.body);
      const answer = await defaultFetch(requestUrl(request), {
        method: request.method,
        headers,
        body,
        signal: AbortSignal.any(signals),
        // A stream body is sent as it is read (fetch wants to be told).
        ...(body instanceof Readable ? { duplex: 'half' } : {}),
      });
      const responseHeaders: Record<string, string> = {};
      answer.headers.forEach((value, name) => (responseHeaders[name] = value));
      return {
        response: {
          statusCode: answer.status,
          reason: answer.statusText,
          headers: responseHeaders,
          // The SDK reads a Node stream from its Node handler: the same here.
          body: answer.body ? Readable.fromWeb(answer.body) : Readable.from([]),
        },
      };
    },
  };
}

function requestUrl(request: SdkRequest): string {
  // Encoded as the SDK's own handler does (each name and value percent-encoded); the
  // signature was computed over the decoded pairs, so any faithful encoding verifies.
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(request.query ?? {})) {
    if (value === null) pairs.push(encodeURIComponent(name));
    else for (const one of Array.isArray(value) ? value : [value]) pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(one)}`);
  }
  const search = pairs.join('&');
  return `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}${request.path}${search ? `?${search}` : ''}`;
}

function requestBody(body: unknown): string | Uint8Array | Readable | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable) return body;
  throw new Error(`S3 request body of an unexpected kind (${Object.prototype.toString.call(body)})`);
}
