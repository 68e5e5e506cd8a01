#!/usr/bin/env node
// Renders a LocalOrchestrator run report (report.html) to a PNG in Debian's
// headless Chromium, to look at how a report reads.
//
//   node scripts/screenshot-report.mjs <report.html> <out.png> [--window-size=1200,900]
//
// Chromium: $CHROMIUM, else /usr/bin/chromium (apt-get install -y chromium).
// Exit codes: 0 written, 1 failed, 3 no Chromium.
/* global process, console */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { screenshot } from './chromium.mjs';

function main(argv) {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const size = argv.find((a) => a.startsWith('--window-size='))?.split('=')[1];
  const [report, out] = positional;
  if (!report || !out) {
    console.error('Usage: node scripts/screenshot-report.mjs <report.html> <out.png> [--window-size=1200,900]');
    return 2;
  }
  if (!existsSync(report)) {
    console.error(`No report at ${report}`);
    return 1;
  }
  return screenshot(pathToFileURL(path.resolve(report)).href, out, size);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = main(process.argv.slice(2));
}
