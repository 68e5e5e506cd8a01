import { existsSync } from 'node:fs';
import path from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { ConfigError } from '../errors.js';

/**
 * The config files a `config` input (or repeated -c) names: paths and globs, separated
 * by newlines or commas, relative to `cwd`. Each file is one workflow. A glob that
 * matches nothing is an error (a typo would otherwise deploy nothing, quietly); a
 * plain path is kept as given, so the loader's "not found" message names it.
 */
export function findConfigFiles(patterns: readonly string[], cwd: string, label: string): string[] {
  const files: string[] = [];
  for (const pattern of patterns.flatMap((p) => p.split(/[\n,]/)).map((p) => p.trim()).filter(Boolean)) {
    if (!isDynamicPattern(pattern)) {
      files.push(path.resolve(cwd, pattern));
      continue;
    }
    const matched = globSync(pattern, { cwd, absolute: true, onlyFiles: true, ignore: ['**/node_modules/**', '**/.git/**'] }).sort();
    if (matched.length === 0) throw new ConfigError(`${label}: '${pattern}' matches no file (relative to ${cwd})`);
    files.push(...matched);
  }
  if (files.length === 0) throw new ConfigError(`${label}: no config file given`);
  // The same file twice would deploy the same workflow twice, racing itself.
  return [...new Set(files.map((f) => (existsSync(f) ? path.normalize(f) : f)))];
}
