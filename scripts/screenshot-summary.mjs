#!/usr/bin/env node
// Shows a job summary (or PR comment) the way GitHub shows it: the Markdown is
// rendered to HTML (marked, GitHub Flavored Markdown) with GitHub-like styling and
// screenshot in Debian's headless Chromium — to look at how the report reads.
//
//   node scripts/screenshot-summary.mjs [summary.md] [out.png] [--window-size=1000,760] [--html=out.html]
//
// Defaults: test/action/report/__snapshots__/summary-success.md → docs/job-summary.png.
// Chromium: $CHROMIUM, else /usr/bin/chromium. Exit codes: 0 written, 1 failed, 2 usage, 3 no Chromium.
/* global process, console, URL */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { marked } from 'marked';
import { screenshot } from './chromium.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

// GitHub's light theme, reduced to what a summary uses: its fonts, table, code and
// blockquote styling, inside a card like the job summary's.
const CSS = `
  body { margin: 0; background: #f6f8fa; font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
         font-size: 14px; line-height: 1.5; color: #1f2328; }
  .card { margin: 24px; background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; }
  .card > header { padding: 12px 16px; border-bottom: 1px solid #d1d9e0; font-weight: 600; color: #59636e; }
  .markdown-body { padding: 16px 24px 8px; }
  h3 { font-size: 1.25em; font-weight: 600; margin: 8px 0 16px; }
  p, ul, table, blockquote { margin: 0 0 16px; }
  ul { padding-left: 2em; }
  li + li { margin-top: 4px; }
  a { color: #0969da; text-decoration: none; }
  code { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: 85%;
         background: rgba(129, 139, 152, 0.12); border-radius: 6px; padding: 0.2em 0.4em; }
  table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
  th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
  th { font-weight: 600; }
  tr:nth-child(2n) { background: #f6f8fa; }
  blockquote { padding: 0 1em; color: #59636e; border-left: 0.25em solid #d1d9e0; }
`;

/** The Markdown as a standalone page styled like GitHub's job summary. */
export function summaryPage(markdown, title = 'lolpop-deploy summary') {
  const html = marked.parse(markdown, { gfm: true, async: false });
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>${CSS}</style></head>
<body><div class="card"><header>deploy summary</header><article class="markdown-body">${html}</article></div></body></html>\n`;
}

function main(argv) {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const size = argv.find((a) => a.startsWith('--window-size='))?.split('=')[1] ?? '1000,760';
  const htmlOut = argv.find((a) => a.startsWith('--html='))?.split('=')[1];
  const [source = path.join(REPO, 'test/action/report/__snapshots__/summary-success.md'), out = path.join(REPO, 'docs/job-summary.png')] = positional;
  if (!existsSync(source)) {
    console.error(`No Markdown at ${source}`);
    return 1;
  }
  const work = mkdtempSync(path.join(tmpdir(), 'lolpop-summary-'));
  try {
    const page = path.join(work, 'summary.html');
    writeFileSync(page, summaryPage(readFileSync(source, 'utf8')));
    if (htmlOut) writeFileSync(htmlOut, readFileSync(page));
    return screenshot(pathToFileURL(page).href, out, size);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = main(process.argv.slice(2));
}
