import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { NullLogger } from '../../src/logger.js';
import { copyExample, REPO } from './example.js';

const SCRIPT = path.join(REPO, 'scripts/screenshot-report.mjs');
const chromium = (process.env.CHROMIUM ? [process.env.CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((c) => existsSync(c));

describe('scripts/screenshot-report.mjs', () => {
  it('has Chromium, or is allowed to skip (never under REQUIRE_SERVICES=1)', () => {
    if (!chromium && process.env.REQUIRE_SERVICES === '1') {
      throw new Error('Chromium is missing but REQUIRE_SERVICES=1: apt-get install -y chromium');
    }
  });

  it.skipIf(!chromium)('renders a real run report of the quickstart to a PNG', async () => {
    const dir = copyExample('quickstart');
    let stdout = '';
    const code = await main(['up', '-c', path.join(dir, 'lolpop.yaml')], {
      stdout: (t) => (stdout += t),
      stderr: () => undefined,
      env: { PATH: process.env.PATH },
      cwd: dir,
      logger: new NullLogger(),
    });
    expect(code).toBe(0);
    const report = fileURLToPath(/^Report: (file:\S+)$/m.exec(stdout)![1]!);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'lolpop-shot-')), 'report.png');
    const printed = execFileSync(process.execPath, [SCRIPT, report, out], { encoding: 'utf8' });
    expect(printed).toContain(`wrote ${out}`);
    const png = readFileSync(out);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // Width and height from the IHDR chunk: the window size asked for.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1200, 900]);
  });

  it('says how to install Chromium when it is missing', () => {
    const result = spawnSync(process.execPath, [SCRIPT, path.join(REPO, 'package.json'), '/tmp/x.png'], {
      encoding: 'utf8',
      env: { PATH: '', CHROMIUM: '/nonexistent/chromium' },
    });
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('apt-get install -y chromium');
  });
});
