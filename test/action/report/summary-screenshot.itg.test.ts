import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { summaryPage } from '../../../scripts/screenshot-summary.mjs';

const SCRIPT = path.resolve('scripts/screenshot-summary.mjs');
const chromium = (process.env.CHROMIUM ? [process.env.CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((c) => existsSync(c));

describe('scripts/screenshot-summary.mjs', () => {
  it('renders the summary Markdown as GitHub does: a real table, links, no raw Markdown left', () => {
    const html = summaryPage(readFileSync('test/action/report/__snapshots__/summary-success.md', 'utf8'));
    expect(html).toContain('<table>');
    expect(html).toContain('<td>✅ success</td>');
    expect(html).toContain('<a href="https://prefect.example.com/runs/flow-run/0f9e5a52-4b8d-4c1e-9a36-1d2b3c4d5e6f">');
    expect(html).not.toMatch(/\*\*|\| --- \|/);
  });

  it('has Chromium, or is allowed to skip (never under REQUIRE_SERVICES=1)', () => {
    if (!chromium && process.env.REQUIRE_SERVICES === '1') throw new Error('Chromium is missing but REQUIRE_SERVICES=1: apt-get install -y chromium');
  });

  it.skipIf(!chromium)('screenshots the failure summary in headless Chromium', () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'lolpop-summary-shot-')), 'summary.png');
    const printed = execFileSync(process.execPath, [SCRIPT, 'test/action/report/__snapshots__/summary-failure.md', out, '--window-size=1000,700'], { encoding: 'utf8' });
    expect(printed).toContain(`wrote ${out}`);
    const png = readFileSync(out);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1000, 700]);
  });
});
