import * as actionsCore from '@actions/core';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as core from '../../src/action/core.js';

type Core = typeof core;

/** What a call writes: stdout, GITHUB_OUTPUT and the summary file, delimiters made equal. */
async function effects(impl: Core, call: (c: Core) => unknown): Promise<{ stdout: string; output: string; summary: string; exitCode: unknown; error?: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'core-'));
  const output = path.join(dir, 'output');
  const summary = path.join(dir, 'summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  vi.stubEnv('GITHUB_OUTPUT', output);
  vi.stubEnv('GITHUB_STEP_SUMMARY', summary);
  vi.stubEnv('INPUT_SOME_INPUT', '  value \n');
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const exitCode = process.exitCode;
  let error: string | undefined;
  try {
    const value = await call(impl);
    if (typeof value === 'string') stdout += `=> ${value}`;
  } catch (e) {
    error = (e as Error).message;
  } finally {
    spy.mockRestore();
  }
  const result = { stdout, output: readFileSync(output, 'utf8').replace(/ghadelimiter_[0-9a-f-]+/g, 'D'), summary: readFileSync(summary, 'utf8'), exitCode: process.exitCode, error };
  process.exitCode = exitCode;
  return result;
}

// src/action/core.ts is a port of the part of @actions/core the action uses (without its
// HTTP client, for start-up): each call must write exactly what @actions/core writes.
describe('src/action/core.ts writes what @actions/core writes', () => {
  afterEach(() => vi.unstubAllEnvs());
  const calls: Array<[string, (c: Core) => unknown]> = [
    ['getInput', (c) => c.getInput('some input')],
    ['getInput untrimmed', (c) => c.getInput('some input', { trimWhitespace: false })],
    ['getInput required, missing', (c) => c.getInput('absent', { required: true })],
    ['setOutput', (c) => c.setOutput('deployment-url', 'http://x/a,b:c\nline 2 %')],
    ['setOutput object', (c) => c.setOutput('results', { a: 1 })],
    ['setSecret', (c) => c.setSecret('s3cr3t%\r\n')],
    ['debug', (c) => c.debug('a\nb %0A')],
    ['info', (c) => c.info('plain: text, with :: marks')],
    ['warning', (c) => c.warning('careful\nnow')],
    ['notice', (c) => c.notice(new Error('boom'))],
    ['error with properties', (c) => c.error('bad', { file: 'a,b:c.yaml', startLine: 3, startColumn: 5, title: 'lolpop-deploy config' })],
    ['error with unset properties', (c) => c.error('bad', { file: undefined, startLine: 3 })],
    ['error, properties all unset', (c) => c.error('bad', { file: undefined })],
    ['setFailed', (c) => c.setFailed('failed: 100%')],
    ['group', (c) => c.group('deploy', async () => c.info('inside'))],
    ['group that throws', (c) => c.group('deploy', () => Promise.reject(new Error('no')))],
    ['summary', (c) => c.summary.addRaw('### title\n').addRaw('| a |', true).write()],
    ['ExitCode', (c) => String(c.ExitCode.Failure)],
  ];
  it.each(calls)('%s', async (_name, call) => {
    expect(await effects(core, call)).toEqual(await effects(actionsCore as unknown as Core, call));
  });

  // @actions/core keeps the first summary path it found (this file's earlier test): its message, as written there.
  it('summary without GITHUB_STEP_SUMMARY: the error @actions/core gives', async () => {
    vi.stubEnv('GITHUB_STEP_SUMMARY', '');
    await expect(core.summary.addRaw('x').write()).rejects.toThrow(
      'Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.',
    );
  });
});
