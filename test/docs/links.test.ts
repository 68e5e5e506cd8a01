import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The user guide and its pages: the README, docs/, and the examples' READMEs. */
const PAGES = [
  'README.md',
  ...readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => path.join('docs', name)),
  ...readdirSync('examples').map((name) => path.join('examples', name, 'README.md')).filter((file) => existsSync(file)),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  // Headings outside fenced code blocks (a `# comment` in a bash block is no heading).
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = anchor(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count ? `${base}-${count}` : base);
  }
  return anchors;
}

/** Each relative link of a page that names no file that exists or no heading of its page. */
function brokenLinks(page: string): string[] {
  const text = readFileSync(page, 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  const broken: string[] = [];
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
    const [file, fragment] = target!.split('#') as [string, string | undefined];
    const resolved = file ? path.join(path.dirname(page), file) : page;
    if (!existsSync(resolved)) broken.push(`${target}: no file ${resolved}`);
    else if (fragment && statSync(resolved).isFile() && resolved.endsWith('.md') && !anchorsOf(resolved).has(fragment)) {
      broken.push(`${target}: no heading #${fragment} in ${resolved}`);
    }
  }
  return broken;
}

describe('links in the README and docs/', () => {
  it.each(PAGES)('%s links only to files and headings that exist', (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it('the README links every page of docs/', () => {
    const readme = readFileSync('README.md', 'utf8');
    const pages = readdirSync('docs').filter((name) => name.endsWith('.md'));
    expect(pages.filter((name) => !readme.includes(`](docs/${name})`))).toEqual([]);
  });
});
