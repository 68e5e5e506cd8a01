import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../project-files.js';
import { RELEASES_DIR } from './dag-file.js';
import type { BundleFile, DagBundle } from './bundle.js';

export interface Delivered {
  /** The deployment's folder, `<dags_folder>/<dag_id>`. */
  dir: string;
  /** The DAG file's path relative to the DAGs folder: Airflow's relative_fileloc and import-error filename. */
  relativeFile: string;
  /** False when the same release was already there (an unchanged redeploy). */
  changed: boolean;
}

/**
 * Puts a bundle into `<dagsFolder>/<dag_id>/` so that the dag-processor never sees half
 * of it: the release is written to a temporary folder and renamed into `releases/`
 * (which .airflowignore keeps out of parsing), and only then is the DAG file, which
 * points at that release, replaced by a rename (writeFileAtomic: its temp file is not *.py,
 * so the dag-processor ignores it). Runs of the previous release keep their
 * files: the previous release stays; older ones are removed.
 */
export function deliverBundle(dagsFolder: string, bundle: DagBundle): Delivered {
  const dir = path.join(dagsFolder, bundle.dagId);
  const releases = path.join(dir, RELEASES_DIR);
  mkdirSync(releases, { recursive: true });
  writeFileAtomic(path.join(dir, '.airflowignore'), bundle.ignoreFile);

  const release = path.join(releases, bundle.fingerprint);
  if (!existsSync(release)) {
    const staging = path.join(releases, `.staging-${bundle.fingerprint}-${randomBytes(4).toString('hex')}`);
    for (const file of bundle.release) {
      const target = path.join(staging, file.path);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, file.content);
    }
    try {
      renameSync(staging, release);
    } catch (error) {
      // Another deploy of the same content got there first: theirs is identical.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(release)) throw error;
    }
  }

  const dagPath = path.join(dir, bundle.dagFileName);
  const previous = existsSync(dagPath) ? readFileSync(dagPath, 'utf8') : undefined;
  const changed = previous !== bundle.dagFile;
  if (changed) writeFileAtomic(dagPath, bundle.dagFile);
  const keep = new Set([bundle.fingerprint, previous ? fingerprintOf(previous) : undefined]);
  for (const name of readdirSync(releases)) {
    if (!keep.has(name) && !name.startsWith('.staging-')) rmSync(path.join(releases, name), { recursive: true, force: true });
  }
  return { dir, relativeFile: `${bundle.dagId}/${bundle.dagFileName}`, changed };
}

/**
 * The deployment's files relative to `<dag_id>/`, for a delivery that writes them one by
 * one (object stores): the .airflowignore and the release first, the DAG file that points
 * at the release last, so a reader in between never sees a DAG without its release.
 * The same files deliverBundle lays out.
 */
export function bundleLayout(bundle: DagBundle): BundleFile[] {
  return [
    { path: '.airflowignore', content: bundle.ignoreFile },
    ...bundle.release.map((file) => ({ path: `${RELEASES_DIR}/${bundle.fingerprint}/${file.path}`, content: file.content })),
    { path: bundle.dagFileName, content: bundle.dagFile },
  ];
}

/**
 * The files deliverBundle leaves in `<dags_folder>/<dag_id>/` for a bundle, relative to
 * that folder (plan lists them; a previous release kept beside them is not among them).
 */
export function bundleFiles(bundle: DagBundle): string[] {
  return bundleLayout(bundle).map((file) => file.path);
}

/** Removes the deployment's folder; false when there was none. */
export function removeBundle(dagsFolder: string, dagId: string): boolean {
  const dir = path.join(dagsFolder, dagId);
  if (!existsSync(dir)) return false;
  // The DAG file first, so the dag-processor cannot catch the folder half-removed and still parse it.
  rmSync(path.join(dir, `${dagId}.py`), { force: true });
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/** The fingerprint a generated DAG file runs (its FINGERPRINT line). */
export function fingerprintOf(dagFile: string): string | undefined {
  return /^FINGERPRINT = "([0-9a-f]+)"$/m.exec(dagFile)?.[1];
}
