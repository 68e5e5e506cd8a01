import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Each orchestrator's folder is its own: what two of them share (names derived from
// lolpop's config, packaging, the launcher, polling) lives in a neutral place.
const ROOT = path.resolve('src/orchestrators');
const FOLDERS = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((f) => f.isFile() && f.name.endsWith('.ts'))
    .map((f) => path.join(f.parentPath, f.name));
}

describe('orchestrator folders', () => {
  it('has the three built-ins', () => expect(FOLDERS).toEqual(expect.arrayContaining(['prefect', 'airflow', 'local'])));

  it.each(FOLDERS)('%s imports nothing from another orchestrator folder', (folder) => {
    const crossings: string[] = [];
    for (const file of sources(path.join(ROOT, folder))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)) {
        const spec = match[1] ?? match[2]!;
        const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep);
        if (target.length > 1 && FOLDERS.includes(target[0]!) && target[0] !== folder) crossings.push(`${path.relative(ROOT, file)} → ${spec}`);
      }
    }
    expect(crossings).toEqual([]);
  });
});
