import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { PackageKwargs } from '../config/schema.js';
import { workflowDirFor } from './dockerfile.js';
import { configFileFor, joinPosix, prefectFilesDir, relativePath } from './paths.js';

/**
 * What of the working directory a workflow takes with it (the Airflow release's copy, what
 * the generated Dockerfile copies): copy_files, the runner config (or the user's flow file)
 * and the workflow folder ({prefect_files}, or the flow file's folder). A flow file at the
 * root would make that folder the whole working directory, so then only the flow file counts.
 * Paths are relative to the working directory; `folder` is undefined in that root case.
 */
export function workflowPaths(pkg: PackageKwargs, flowFile: string | undefined): { files: string[]; folder?: string } {
  const files = pkg.copy_files.map((f) => relativePath('copy_files', f));
  if (flowFile === undefined) files.push(relativePath('config_file', configFileFor(pkg)));
  else files.push(relativePath('flow_entrypoint', flowFile));
  const folder = workflowDirFor(pkg);
  return { files: [...new Set(files)], ...(folder !== '.' ? { folder } : {}) };
}

/**
 * workflowPaths as files, each once, in that order: the workflow folder's files listed
 * (without what package generates there, see generatedBy), as a release copies them.
 */
export function workflowFiles(pkg: PackageKwargs, flowFile: string | undefined, root: string): string[] {
  const { files, folder } = workflowPaths(pkg, flowFile);
  if (folder !== undefined) files.push(...filesUnder(root, folder, generatedBy(pkg)));
  return [...new Set(files)];
}

/**
 * What package generates in {prefect_files}: run.py (the Prefect wrapper, which the
 * Airflow task does not run) and the DAG files written for review (which hold the
 * fingerprint, so they cannot be part of what it hashes). Left out, so the release is
 * the same whether or not package ran first.
 */
function generatedBy(pkg: PackageKwargs): Set<string> {
  const dir = prefectFilesDir(pkg);
  return new Set([joinPosix(dir, 'run.py'), joinPosix(dir, 'airflow')]);
}

/** The files under `folder` (relative, sorted), without bytecode caches and the `skip` paths; none when it does not exist. */
function filesUnder(root: string, folder: string, skip: Set<string>): string[] {
  let entries;
  try {
    entries = readdirSync(path.join(root, folder), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const relative = joinPosix(folder, entry.name);
    if (skip.has(relative) || entry.name === '__pycache__') continue;
    // A link is read as a file, and refused there (not followed): the Dockerfile's COPY would not follow it either.
    found.push(...(entry.isDirectory() ? filesUnder(root, relative, skip) : [relative]));
  }
  return found;
}
