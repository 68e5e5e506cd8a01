import { posix } from 'node:path';
import type { PackageKwargs } from '../config/schema.js';
import { ConfigError } from '../errors.js';

/**
 * Joins path segments with `/` whatever the host OS, collapsing doubled and trailing
 * slashes: lolpop pasted `prefect_files/` and `/dev.yaml` together and got
 * `prefect_files//dev.yaml` (LOLPOP bug 9). Empty segments are skipped.
 */
export function joinPosix(...segments: string[]): string {
  const joined = posix.join(...segments.filter((s) => s !== ''));
  return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined;
}

/**
 * `prefect_files`, normalised (`prefect_files/` → `prefect_files`). It must stay inside
 * the working directory: it is both where run.py is written and a `COPY` source, and
 * Docker cannot copy from outside the build context.
 */
export function prefectFilesDir(kwargs: Pick<PackageKwargs, 'prefect_files'>): string {
  return relativePath('prefect_files', kwargs.prefect_files);
}

/** lolpop's default `config_file`, `{prefect_files}/dev.yaml`, without doubled slashes. */
export function configFileFor(kwargs: Pick<PackageKwargs, 'prefect_files' | 'config_file'>): string {
  return kwargs.config_file ?? joinPosix(prefectFilesDir(kwargs), 'dev.yaml');
}

/**
 * A user-given path normalised and checked to be relative and inside the working
 * directory (the Docker build context). `key` names the setting in the error.
 */
export function relativePath(key: string, value: string): string {
  const trimmed = value.trim();
  const normalised = joinPosix(trimmed === '' ? '.' : trimmed);
  if (posix.isAbsolute(normalised) || normalised === '..' || normalised.startsWith('../')) {
    throw new ConfigError(
      `Invalid ${key} '${value}'. Expected a relative path inside the working directory (the Docker build context).`,
    );
  }
  return normalised;
}
