import { spawn } from 'node:child_process';
import path from 'node:path';

/** The bundled CLI, built by `npm run bundle`. */
export const CLI_BUNDLE = path.resolve('dist/cli/index.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bundled CLI in a child process with only PATH and HOME from this process's
 * environment, plus `env`. Asynchronous: a stand-in server in this process must answer it.
 */
export function runBundledCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
