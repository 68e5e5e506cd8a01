import { readFileSync } from 'node:fs';

/** Where tinyproxy's log (LOLPOP_TEST_PROXY_LOG) ends now: what a test's requests add comes after it. */
export function proxyLogEnd(log: string): number {
  return readFileSync(log, 'utf8').length;
}

/** The CONNECT tunnels tinyproxy was asked for since `from` (a log offset): "host:port" each. */
export function tunnelsSince(log: string, from: number): string[] {
  const text = readFileSync(log, 'utf8').slice(from);
  return [...text.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!);
}
