import type { PackageKwargs } from '../config/schema.js';
import { writeProjectFile } from '../project-files.js';
import { renderDockerfile } from './dockerfile.js';
import { renderEntrypoint, type EntrypointOptions } from './entrypoint.js';
import { joinPosix, prefectFilesDir, relativePath } from './paths.js';

/** A file of the package: a path relative to the working directory, and its text. */
export interface PackageFile {
  path: string;
  content: string;
}

/** What packageFiles needs besides the kwargs. */
export interface PackageFilesOptions extends EntrypointOptions {
  /**
   * Whether a path (relative to the working directory) exists. A Dockerfile that
   * exists at `dockerfile_path` is the user's and is used as is. Callers re-packaging
   * in the same directory should answer false for a Dockerfile we wrote earlier
   * (see isGeneratedFile), so that it is refreshed.
   */
  exists(path: string): boolean;
  /** False when no image will be built from it (a process pool): then no Dockerfile is written. */
  dockerfile?: boolean;
}

/**
 * The files the package step writes: `{prefect_files}/run.py` unless the user brings a
 * flow (`flow_entrypoint`), and a Dockerfile at `dockerfile_path` for the docker
 * package type unless the user has one there or no image will be built.
 */
export function packageFiles(kwargs: PackageKwargs, options: PackageFilesOptions): PackageFile[] {
  const files: PackageFile[] = [];
  if (kwargs.flow_entrypoint === undefined) {
    files.push({ path: joinPosix(prefectFilesDir(kwargs), 'run.py'), content: renderEntrypoint(kwargs, options) });
  }
  if (kwargs.package_type === 'docker' && options.dockerfile !== false) {
    const dockerfilePath = relativePath('dockerfile_path', kwargs.dockerfile_path);
    if (!options.exists(dockerfilePath)) files.push({ path: dockerfilePath, content: renderDockerfile(kwargs) });
  }
  return files;
}

/**
 * The Prefect entrypoint of the package, `path/to/file.py:function` relative to the
 * working directory: the user's `flow_entrypoint`, else the generated
 * `{prefect_files}/run.py:{flow_name}`. The image keeps the same relative paths.
 */
export function entrypointFor(kwargs: PackageKwargs): string {
  return kwargs.flow_entrypoint ?? `${joinPosix(prefectFilesDir(kwargs), 'run.py')}:${kwargs.flow_name}`;
}

/**
 * Writes `files` under `dir`, creating directories as needed, and returns the absolute
 * paths written. A path that leads outside `dir`, by its name or through a symbolic link
 * (a linked prefect_files/, a dangling Dockerfile link), is refused. Synchronous on
 * purpose: a handful of small files, and the image build that follows must see them.
 */
export function writePackageFiles(dir: string, files: readonly PackageFile[]): string[] {
  return files.map((file) => writeProjectFile({ root: dir, file: file.path, what: `'${file.path}'` }, file.content));
}
