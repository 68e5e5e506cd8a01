// Headless Chromium screenshots for the screenshot scripts: Debian's chromium with
// the flags this machine's closed network needs (no background connections).
/* global process, console */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const NO_CHROMIUM_EXIT_CODE = 3;

/** $CHROMIUM when set (and only it), else Debian's or Ubuntu's path. */
export function findChromium(env = process.env) {
  const candidates = env.CHROMIUM ? [env.CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c) => existsSync(c));
}

export function screenshotArgs(pageUrl, outFile, userDataDir, windowSize = '1200,900') {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${userDataDir}`,
    `--screenshot=${outFile}`,
    `--window-size=${windowSize}`,
    pageUrl,
  ];
}

/** Screenshots `pageUrl` into `out`; returns an exit code (0 written, 1 failed, 3 no Chromium). */
export function screenshot(pageUrl, out, windowSize) {
  const chromium = findChromium();
  if (!chromium) {
    console.error('Chromium not found: apt-get install -y chromium (or set CHROMIUM)');
    return NO_CHROMIUM_EXIT_CODE;
  }
  const outFile = path.resolve(out);
  rmSync(outFile, { force: true });
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'lolpop-chromium-'));
  try {
    const result = spawnSync(chromium, screenshotArgs(pageUrl, outFile, userDataDir, windowSize), { encoding: 'utf8', timeout: 90_000 });
    const png = existsSync(outFile) ? readFileSync(outFile) : undefined;
    if (!png || png.subarray(1, 4).toString('latin1') !== 'PNG') {
      const why = result.error?.message ?? (result.stderr || '').trim().split('\n').slice(-3).join(' | ');
      console.error(`Chromium wrote no screenshot (exit ${result.status}): ${why}`);
      return 1;
    }
    console.log(`wrote ${outFile} (${png.length} bytes)`);
    return 0;
  } finally {
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
