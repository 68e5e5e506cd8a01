import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { findLeaks, secretsOf } from './leaks.js';
import { tempDir } from './services.js';

export const BUNDLE = path.resolve('dist/index.js');

export interface ActionRun {
  status: number | null;
  /** stdout and stderr, as the runner's log shows them (workflow commands included). */
  log: string;
  outputs: Record<string, string>;
  summary: string;
  /** What the step saved for its post step (GITHUB_STATE), to give the post step as STATE_*. */
  state: Record<string, string>;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
}

/** What the runner passes for inputs not given in `with:`: action.yml's defaults. */
export function defaultInputs(): Record<string, string> {
  const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> };
  return Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? '']));
}

/** Parses the runner's GITHUB_OUTPUT file (name<<delimiter … delimiter blocks). */
export function readOutputs(file: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(file, 'utf8').matchAll(/^([^<\n]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]!] = m[3]!;
  return outputs;
}

/**
 * Runs the bundled action as the runner does: `node dist/index.js` with INPUT_* for
 * every input (action.yml's defaults under `inputs`), GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, and the given GITHUB_* environment. Asynchronous, so a
 * server in this process (the local GitHub API) can answer while it runs.
 */
export async function runBundledAction(options: {
  node: string;
  cwd: string;
  inputs: Record<string, string>;
  env: Record<string, string>;
  /** The PR comments as they stand after the run (the GitHub stand-in's), for the leak check. */
  comments?: () => readonly string[];
  /** The main step's saved state: given, this is the post step (STATE_* as the runner sets them). */
  state?: Record<string, string>;
  /** Called with the process once spawned (to signal it as the runner does). */
  started?: (child: ChildProcess, stateFile: string) => void;
}): Promise<ActionRun> {
  const dir = tempDir('action');
  const outputFile = path.join(dir, 'github_output');
  const summaryFile = path.join(dir, 'step_summary');
  const stateFile = path.join(dir, 'github_state');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  writeFileSync(stateFile, '');
  const stateEnv = Object.fromEntries(Object.entries(options.state ?? {}).map(([k, v]) => [`STATE_${k}`, v]));
  const inputs = { ...defaultInputs(), ...options.inputs };
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v]));
  const child = spawn(options.node, [BUNDLE], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_STATE: stateFile,
      GITHUB_WORKSPACE: options.cwd,
      ...inputEnv,
      ...stateEnv,
      ...options.env,
    },
  });
  options.started?.(child, stateFile);
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject); // a node that is not there fails the test at once, not at its timeout
    child.on('close', (code, signalled) => resolve([code, signalled]));
  });
  const run = { status, signal, log, outputs: readOutputs(outputFile), summary: readFileSync(summaryFile, 'utf8'), state: readOutputs(stateFile) };
  // Every run is checked: a secret it was given must not be in anything it produced.
  const leaks = findLeaks(secretsOf(options.env, inputs), { ...run, comments: options.comments?.() });
  if (leaks.length > 0) throw new Error(`a secret leaked into: ${leaks.join(', ')}`);
  return run;
}

/**
 * The bundled action running `steps` of lolpop.yaml in `cwd` with the registry credentials
 * as its inputs (package pushes with them; deploy hands them to the cluster) and no PR comment.
 */
export function runActionWithRegistry(options: {
  node: string;
  cwd: string;
  steps: string;
  credentials: { username: string; password: string };
  env: Record<string, string>;
}): Promise<ActionRun> {
  return runBundledAction({
    node: options.node,
    cwd: options.cwd,
    inputs: {
      comment: 'never',
      config: 'lolpop.yaml',
      steps: options.steps,
      'registry-username': options.credentials.username,
      'registry-password': options.credentials.password,
    },
    env: options.env,
  });
}
