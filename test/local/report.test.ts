import { describe, expect, it } from 'vitest';
import { escapeHtml, REPORT_LINE_CHARS, REPORT_LOG_CHARS, REPORT_LOG_LINES, renderRunReport } from '../../src/orchestrators/local/report.js';
import type { RunRecord } from '../../src/orchestrators/local/state.js';

const run: RunRecord = {
  id: '20250131T120501Z-3fa9c2',
  deployment: 'quick<start>',
  entrypoint: 'prefect_files/run.py:prefect_entrypoint',
  parameters: { note: '<script>alert(1)</script>' },
  state: 'FAILED',
  python: 'python3',
  command: ['python3', 'launcher.py', 'spec.json'],
  started: '2025-01-31T12:05:01.123Z',
  ended: '2025-01-31T12:05:03.623Z',
  durationMs: 2500,
  exitCode: 1,
};

describe('renderRunReport', () => {
  const html = renderRunReport(run, [
    { stream: 'stdout', text: 'training & "testing"' },
    { stream: 'stderr', text: 'RuntimeError: <bad>' },
  ]);

  it('is one self-contained page: no script, no external resource', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|url\(|https?:\/\//i);
  });

  it('escapes everything that came from the run', () => {
    expect(html).toContain('quick&lt;start&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('training &amp; &quot;testing&quot;');
    expect(html).toContain('<span class="err"><i>2</i>RuntimeError: &lt;bad&gt;</span>');
  });

  it('shows state, times, duration and, for a failure, the last lines first', () => {
    expect(html).toContain('<span class="state">FAILED</span>');
    expect(html).toContain('2025-01-31 12:05:01 UTC');
    expect(html).toContain('2.5 s');
    expect(html).toMatch(/class="failure"[\s\S]*RuntimeError: &lt;bad&gt;[\s\S]*<h2>Summary/);
  });

  it('keeps the tail of a very long log and says so', () => {
    const lines = Array.from({ length: REPORT_LOG_LINES + 10 }, (_, i) => ({ stream: 'stdout' as const, text: `line ${i + 1}` }));
    const long = renderRunReport({ ...run, state: 'COMPLETED' }, lines);
    expect(long).toContain('The first 10 lines are omitted');
    expect(long).not.toContain('>line 10<');
    expect(long).toContain(`<i>${REPORT_LOG_LINES + 10}</i>line ${REPORT_LOG_LINES + 10}`);
    expect(long).not.toContain('class="failure"');
  });

  it('caps the log in characters: a huge line is cut, and the tail stops at REPORT_LOG_CHARS', () => {
    const huge = renderRunReport({ ...run, state: 'COMPLETED' }, [{ stream: 'stdout', text: 'x'.repeat(10_000_000) }]);
    expect(huge.length).toBeLessThan(REPORT_LINE_CHARS + 10_000);
    expect(huge).toContain(` … [${10_000_000 - REPORT_LINE_CHARS} more characters in log.txt]`);
    const wide = Array.from({ length: 1000 }, (_, i) => ({ stream: 'stdout' as const, text: `${i} ${'y'.repeat(REPORT_LINE_CHARS)}` }));
    const html = renderRunReport({ ...run, state: 'COMPLETED' }, wide, { totalLines: 5000 });
    expect(html.length).toBeLessThan(REPORT_LOG_CHARS + 2 * REPORT_LINE_CHARS + 10_000);
    expect(html).toContain('(5000 lines;');
    expect(html).toMatch(/The first 49\d\d lines are omitted here/);
    expect(html).toContain('>999 y');
  });

  it('a cancelled or crashed run says why and names the signal, not a null exit code', () => {
    const cancelled = renderRunReport({ ...run, state: 'CANCELLED', exitCode: undefined, signal: 'SIGTERM', error: 'the wait-timeout of 1.0 s was reached and lolpop-deploy stopped the run: killed by SIGTERM' }, [
      { stream: 'stdout', text: 'working' },
    ]);
    expect(cancelled).toContain('<span class="state">CANCELLED</span>');
    expect(cancelled).toContain('<code>killed by SIGTERM</code>');
    expect(cancelled).toContain("<strong>The wait-timeout of 1.0 s was reached and lolpop-deploy stopped the run: killed by SIGTERM; the run's last lines:</strong>");
    expect(cancelled).not.toContain('null');
  });

  it('escapeHtml', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
