import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A fresh copy of examples/<name> in a temp dir, so tests never write into the repo. */
export function copyExample(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `lolpop-${name}-`));
  cpSync(path.join(REPO, 'examples', name), dir, {
    recursive: true,
    filter: (src) => !/(\.lolpop-deploy|\.shell-orchestrator|prefect_files|__pycache__)$/.test(src) && !src.endsWith('/Dockerfile'),
  });
  return dir;
}
