import { describe, expect, it } from 'vitest';
import { LineSplitter, OUTPUT_KEPT_CHARS, ProcessExec } from '../src/exec.js';

function split(chunks: Array<string | Buffer>, maxBytes = 1024): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter(maxBytes, (l) => lines.push(l));
  for (const chunk of chunks) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  splitter.flush();
  return lines;
}

describe('LineSplitter', () => {
  it('splits on \\n and \\r\\n across chunks, keeps empty lines, flushes the last unterminated one', () => {
    expect(split(['a\nb', 'c\r\n\nd\r', '\ne'])).toEqual(['a', 'bc', '', 'd', 'e']);
    expect(split(['x\n'])).toEqual(['x']);
    expect(split([''])).toEqual([]);
  });

  it('keeps a multi-byte character split between chunks whole', () => {
    const bytes = Buffer.from('héllo\n');
    expect(split([bytes.subarray(0, 2), bytes.subarray(2)])).toEqual(['héllo']);
  });

  it('cuts a line over the cap and counts the rest, in bounded memory', () => {
    expect(split(['abcdefghij\nk'], 4)).toEqual(['abcd … [6 more bytes of this line not shown]', 'k']);
    const lines: string[] = [];
    const splitter = new LineSplitter(64 * 1024, (l) => lines.push(l));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const started = Date.now();
    for (let i = 0; i < 800; i++) splitter.push(chunk); // 50 MB, no newline
    splitter.push(Buffer.from('\ny\n'));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^x{65536} … \[52363264 more bytes of this line not shown\]$/);
    expect(lines[1]).toBe('y');
  });
});

describe('ProcessExec', () => {
  const exec = new ProcessExec();

  it('returns the exit code and the whole output, and streams lines', async () => {
    const lines: string[] = [];
    const result = await exec.run('sh', ['-c', 'echo out; echo err >&2; printf tail; exit 3'], { onLine: (l, s) => lines.push(`${s}:${l}`) });
    expect(result).toEqual({ exitCode: 3, stdout: 'out\ntail', stderr: 'err\n' });
    expect(lines.sort()).toEqual(['stderr:err', 'stdout:out', 'stdout:tail']);
  });

  it('looks a bare program name up in this process’s PATH, as @actions/exec does, whatever the child’s PATH', async () => {
    expect((await exec.run('sh', ['-c', 'echo ok'], { env: { PATH: '/nonexistent' } })).stdout).toBe('ok\n');
  });

  it('passes input, cwd and only the given environment', async () => {
    const result = await exec.run('sh', ['-c', 'cat; pwd; echo "$ONLY-${HOME:-unset}"'], { input: 'secret\n', cwd: '/tmp', env: { PATH: process.env.PATH, ONLY: 'yes', HOME: undefined } });
    expect(result.stdout).toBe('secret\n/tmp\nyes-unset\n');
  });

  it('a program that reads its input gets end of file when there is none (it does not hang)', async () => {
    expect((await exec.run('cat', [])).exitCode).toBe(0);
  });

  it('a missing program or cwd is exit code 127 with a message', async () => {
    const missing = await exec.run('no-such-program-xyz', []);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/^Unable to locate executable file: no-such-program-xyz\. Please verify/);
    const missingPath = await exec.run('/nonexistent/python3', []);
    expect(missingPath.exitCode).toBe(127);
    expect(missingPath.stderr).toMatch(/^Unable to locate executable file: \/nonexistent\/python3 \(spawn \/nonexistent\/python3 ENOENT\)$/);
    expect(await exec.run('sh', ['-c', 'true'], { cwd: '/nonexistent/dir' })).toMatchObject({ exitCode: 127, stderr: 'The cwd: /nonexistent/dir does not exist!' });
  });

  it('a program killed by a signal is 128 + its number, as a shell says', async () => {
    expect((await exec.run('sh', ['-c', 'kill -TERM $$'])).exitCode).toBe(143);
  });

  it('one 50 MB line without a newline: fast, onLine gets it cut, the result keeps its last OUTPUT_KEPT_CHARS', async () => {
    const lines: string[] = [];
    const started = Date.now();
    const result = await exec.run('python3', ['-c', 'import sys; sys.stdout.write("x" * 50_000_000)'], { onLine: (l) => lines.push(l) });
    const took = Date.now() - started;
    console.log(`ProcessExec, 50 MB line: ${took} ms`);
    expect(took).toBeLessThan(10_000);
    expect(result.stdout).toBe(`[… earlier output not kept]\n${'x'.repeat(OUTPUT_KEPT_CHARS)}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(70_000);
  }, 60_000);
});
