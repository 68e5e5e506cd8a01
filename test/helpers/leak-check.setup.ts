import { createRequire, syncBuiltinESMExports } from 'node:module';
import { afterEach, expect } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { findLeaks, secretsOf } from './leaks.js';

/**
 * The leak detector of every integration test (a setup file of the integration
 * project). Seeded secrets — the services' passwords and auth strings in the
 * environment, every value a logger was asked to keep secret (API keys, tokens,
 * ${VAR} values, URL passwords), and the secret-named variables a child process was
 * given — are searched for in what the test produced: every in-process log line a
 * user would see (MemoryLogger.lines, redacted as they were written: a secret
 * registered too late shows) and the output of every CLI or action process the test
 * started. The bundled action's outputs, summary and comments are checked by
 * runBundledAction itself.
 */
const seeded = secretsOf(process.env, {});
for (const value of [...seeded]) {
  // An auth string user:password: the password alone must not show either.
  const password = /^[^:]+:(.{6,})$/.exec(value)?.[1];
  if (password) seeded.push(password);
}

const loggers = new Set<MemoryLogger>();
const processes: Array<{ what: string; secrets: string[]; output: () => string }> = [];

// Every MemoryLogger that wrote a line during the test is checked after it.
const proto = MemoryLogger.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const method of ['debug', 'info', 'warning', 'error', 'group', 'addSecret']) {
  const original = proto[method]!;
  proto[method] = function (this: MemoryLogger, ...args: unknown[]) {
    loggers.add(this);
    return original.apply(this, args);
  };
}

// Every child process's output too: patched on the CommonJS module, then given to ES imports.
type Spawned = { stdout?: NodeJS.ReadableStream | null; stderr?: NodeJS.ReadableStream | null };
const childProcess = createRequire(import.meta.url)('node:child_process') as Record<string, (...args: unknown[]) => unknown>;
const envOf = (args: unknown[]): Record<string, string | undefined> => {
  const options = args.find((a) => a && typeof a === 'object' && !Array.isArray(a)) as { env?: Record<string, string> } | undefined;
  return options?.env ?? {};
};
const describe = (args: unknown[]): string => [args[0], ...(Array.isArray(args[1]) ? args[1] : [])].map(String).join(' ').slice(0, 120);
const text = (value: unknown): string => (value === undefined || value === null ? '' : Buffer.isBuffer(value) ? value.toString('utf8') : String(value));
for (const name of ['spawnSync', 'execFileSync', 'execSync']) {
  const original = childProcess[name]!;
  childProcess[name] = (...args: unknown[]) => {
    const result = original(...args);
    const output = name === 'spawnSync' ? `${text((result as Spawned & { stdout: unknown }).stdout)}${text((result as { stderr: unknown }).stderr)}` : text(result);
    processes.push({ what: describe(args), secrets: secretsOf(envOf(args), {}), output: () => output });
    return result;
  };
}
const originalSpawn = childProcess.spawn!;
childProcess.spawn = (...args: unknown[]) => {
  const child = originalSpawn(...args) as Spawned;
  let output = '';
  const collect = (chunk: Buffer | string) => void (output += text(chunk));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  processes.push({ what: describe(args), secrets: secretsOf(envOf(args), {}), output: () => output });
  return child;
};
syncBuiltinESMExports();

afterEach(() => {
  const leaks: string[] = [];
  for (const logger of loggers) {
    const secrets = [...new Set([...seeded, ...logger.secrets])].filter((s) => s.length >= 6);
    for (const leak of findLeaks(secrets, { log: logger.lines.join('\n'), outputs: {}, summary: '' })) leaks.push(`a log: ${leak}`);
  }
  for (const p of processes) {
    const secrets = [...new Set([...seeded, ...p.secrets])];
    for (const leak of findLeaks(secrets, { log: p.output(), outputs: {}, summary: '' })) leaks.push(`${p.what}: ${leak}`);
  }
  loggers.clear();
  processes.length = 0;
  expect(leaks, 'secrets in what the test produced').toEqual([]);
});
