import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';

/** The variables that turn the proxy on, in both the upper and the lower case curl and Python read. */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

let agent: EnvHttpProxyAgent | undefined;

/** Whether HTTP_PROXY or HTTPS_PROXY (either case) is set: requests then go through defaultFetch's proxy agent. */
export function proxyConfigured(): boolean {
  return PROXY_VARIABLES.some((name) => process.env[name]);
}

/**
 * The one place the proxy variables become a dispatcher: undici's EnvHttpProxyAgent decides,
 * per request, which proxy HTTP_PROXY / HTTPS_PROXY give for the URL's scheme and whether
 * NO_PROXY / no_proxy sends it directly, as curl does. Every client goes through it (fetch
 * below, the Kubernetes API client with its own TLS options), so that decision is made once.
 */
export function environmentProxyAgent(options: EnvHttpProxyAgent.Options = {}): EnvHttpProxyAgent {
  return new EnvHttpProxyAgent(options);
}

/** Which proxy variable holds `proxy` (for messages: "the proxy … (HTTPS_PROXY)"); undefined when none does. */
export function proxyVariableOf(proxy: URL): string | undefined {
  return PROXY_VARIABLES.find((name) => {
    try {
      return new URL(process.env[name] ?? '').href === proxy.href;
    } catch {
      return false;
    }
  });
}

/** The values of the proxy variables that are set: their credentials must never be printed. */
export function proxyVariableValues(): string[] {
  return PROXY_VARIABLES.map((name) => process.env[name]).filter((value): value is string => Boolean(value));
}

/**
 * The fetch every request of this tool is made with (orchestrator APIs, GitHub, registry
 * checks) unless a test injects its own. With HTTP_PROXY or HTTPS_PROXY set (either
 * case), undici's EnvHttpProxyAgent sends each request through the proxy for its scheme,
 * except to hosts NO_PROXY / no_proxy lists, as curl does; without them, Node's own fetch.
 * The variables are read at the first request; one agent (its connections kept alive)
 * serves the whole process.
 */
export const defaultFetch: typeof globalThis.fetch = (input, init) => {
  if (!proxyConfigured()) return globalThis.fetch(input, init);
  // proxyTunnel false: a plain http:// request goes to the proxy as a whole URL (as curl sends it), https:// through a CONNECT tunnel.
  agent ??= environmentProxyAgent({ proxyTunnel: false });
  // undici's own fetch: the dispatcher is its option, and Node's built-in fetch (another undici) may not take this agent.
  const options = { ...init, dispatcher: agent } as Parameters<typeof undiciFetch>[1];
  return undiciFetch(input instanceof Request ? input.url : input, options);
};
