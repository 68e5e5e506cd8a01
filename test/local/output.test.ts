import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPORT_LOG_CHARS, REPORT_LOG_LINES } from '../../src/orchestrators/local/report.js';
import { localProject } from './project.js';

function runDir(url: string): string {
  return path.dirname(fileURLToPath(url));
}

/** Samples this process's RSS while `work` runs; the peak growth over the start, in MB. */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ value: T; mb: number; ms: number }> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = Date.now();
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, mb: (peak - base) / 2 ** 20, ms: Date.now() - started };
  } finally {
    clearInterval(timer);
  }
}

describe('LocalOrchestrator: output is streamed and capped in bytes', () => {
  it('one 50 MB line without a newline: bounded time and memory; log.txt has it all, the report and the logger a capped piece', async () => {
    const { dir: project, deployFlow, logger } = localProject();
    onTestFinished(() => rmSync(project, { recursive: true, force: true }));
    const { run } = await deployFlow(
      'huge',
      'import sys\ndef main():\n    print("before", flush=True)\n    sys.stdout.write("x" * 50_000_000)\n    sys.stdout.flush()\n    print("", flush=True)\n    print("after", flush=True)\n',
    );
    const { value: result, mb, ms } = await peakRssGrowth(() => run());
    console.log(`50 MB line: ${ms} ms, peak RSS growth ${mb.toFixed(0)} MB`);
    expect(result.state).toBe('COMPLETED');
    expect(ms).toBeLessThan(10_000);
    expect(mb).toBeLessThan(150);
    const dir = runDir(result.url);
    const launcherLine = 'lolpop-deploy: calling huge.py:main(**{})\n'.length;
    expect(statSync(path.join(dir, 'log.txt')).size).toBe(launcherLine + 'before\n'.length + 50_000_000 + '\nafter\n'.length);
    const report = statSync(path.join(dir, 'report.html')).size;
    console.log(`report.html: ${report} bytes`);
    expect(report).toBeLessThan(200_000);
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/x{1000} … \[49983616 more bytes of this line not shown\]/);
    expect(html).toContain('>after</span>');
    // The logger got the line cut too, not 50 MB.
    expect(Math.max(...logger.lines.map((l) => l.length))).toBeLessThan(20_000);
  }, 60_000);

  it('a flood of lines: the report keeps the tail within its line and byte caps', async () => {
    const { dir: project, deployFlow } = localProject();
    onTestFinished(() => rmSync(project, { recursive: true, force: true }));
    const { run } = await deployFlow('flood', 'def main():\n    for i in range(200000):\n        print("line %d %s" % (i, "y" * 100))\n');
    const result = await run();
    const dir = runDir(result.url);
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('(200001 lines;');
    expect(html).toContain('>line 199999 ');
    expect(html).not.toContain('>line 1 ');
    expect((html.match(/<span><i>/g) ?? []).length).toBeLessThanOrEqual(REPORT_LOG_LINES);
    expect(html.length).toBeLessThan(REPORT_LOG_CHARS * 2);
    expect(readFileSync(path.join(dir, 'log.txt'), 'utf8').split('\n').length).toBe(200002);
  }, 60_000);

  it('log.txt stops at its byte cap and says how much more there was', async () => {
    const { deployFlow } = localProject({ limits: { logFileBytes: 1_000_000 } });
    const { run } = await deployFlow('capped', 'import sys\ndef main():\n    sys.stdout.write("z" * 3_000_000 + "\\n")\n');
    const result = await run();
    const log = readFileSync(path.join(runDir(result.url), 'log.txt'), 'utf8');
    expect(log.length).toBeLessThan(1_000_200);
    expect(log).toMatch(/\[lolpop-deploy: log\.txt stops at 1000000 bytes; \d+ more bytes of output were not written\]\n$/);
  });
});
