import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, readSync, realpathSync, renameSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './errors.js';

/**
 * Every file lolpop-deploy reads from or writes into the working directory (the
 * repository: a pull request's contents, hostile in a fork) goes through here. A path is
 * resolved with its symbolic links followed (realpath; for a file still to be created,
 * its nearest existing parent's) and must stay inside the root it belongs to; a file read
 * must be a regular file and is read with a size bound; a file written replaces the old
 * one by a rename, never writing through a link planted in its place.
 */

/** Config files, Dockerfiles, generated files and local state records: text a person writes. */
export const TEXT_FILE_MAX_BYTES = 1024 * 1024;
/** A file copied into a release (copy_files, the runner config, the flow file): data sets included. */
export const COPIED_FILE_MAX_BYTES = 64 * 1024 * 1024;

export interface ProjectFile {
  /** The root the file must stay inside: the working directory, or the local state folder. */
  root: string;
  /** The file, relative to `root` or absolute. */
  file: string;
  /** What the file is to the user, for the error: `copy_files 'train.csv'`, `config file lolpop.yaml`. */
  what: string;
  /** How the root is named in the error (default: the working directory). */
  rootName?: string;
}

/**
 * Where `file` (relative to `root`, or absolute) leads once links are followed (`real`: its
 * realpath, or its nearest existing parent's plus the rest), and why that is refused
 * (`problem`, undefined when it stays inside): outside by its name, or once links are
 * followed, or through a link that leads nowhere (missing, or a loop).
 */
export function escapeProblem(root: string, file: string, rootName = 'the working directory'): { real: string; problem?: string } {
  const absolute = path.resolve(root, file);
  if (!isWithin(path.resolve(root), absolute)) return { real: absolute, problem: `is outside ${rootName} ${path.resolve(root)}` };
  const real = realOf(absolute);
  if ('dangling' in real) {
    const through = real.dangling === absolute ? 'is' : `goes through ${real.dangling},`;
    return { real: real.dangling, problem: `${through} a symbolic link to ${readlinkSync(real.dangling)}, which leads nowhere` };
  }
  const realRoot = realOf(root);
  const rootPath = 'dangling' in realRoot ? path.resolve(root) : realRoot.real;
  if (!isWithin(rootPath, real.real)) {
    return { real: real.real, problem: `leads to ${real.real} through a symbolic link, outside ${rootName} ${rootPath}` };
  }
  return { real: real.real };
}

/** The real path of `spec.file` (links followed), checked to stay inside its root; a ConfigError otherwise. */
export function resolveInside(spec: ProjectFile): string {
  const { real, problem } = escapeProblem(spec.root, spec.file, spec.rootName);
  if (problem) throw new ConfigError(`Refusing ${spec.what}: it ${problem}`);
  return real;
}

/**
 * A file's bytes, or undefined when there is none. Refused with a ConfigError when it
 * leaves its root, is not a regular file (a directory, a FIFO, a device) or holds more
 * than `maxBytes` (counted as read: /proc files say they are empty).
 */
export function readProjectFile(spec: ProjectFile, maxBytes: number): Buffer | undefined {
  const opened = openRegularFile(resolveInside(spec), spec.what);
  if (!opened) return undefined;
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - total));
      const read = readSync(opened.fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      total += read;
      if (total > maxBytes) throw new ConfigError(`Refusing ${spec.what}: ${opened.path} holds more than ${formatBytes(maxBytes)}, the most lolpop-deploy reads`);
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * Opens `file` for reading when it is a regular file, not a link (for a file whose folder
 * is already known to be inside: a link planted as the file itself is refused, not
 * followed); undefined when there is none. The caller closes `fd`.
 */
export function openRegularFile(file: string, what: string): { fd: number; size: number; path: string } | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the path checked is the one read.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new ConfigError(`Refusing ${what}: ${file} is a symbolic link to ${readlinkSync(file)}; not following it`);
    throw new ConfigError(`Refusing ${what}: cannot open ${file} (${code ?? (error as Error).message})`);
  }
  const stat = fstatSync(fd);
  const kind = nonRegularKind(stat);
  if (kind) {
    closeSync(fd);
    throw new ConfigError(`Refusing ${what}: ${file} is ${kind}, not a regular file`);
  }
  return { fd, size: stat.size, path: file };
}

/**
 * Writes `content` to a file inside its root, creating its folders: refused when the file
 * or a folder on its way leads out of the root, or something other than a regular file is
 * there. Returns the path written.
 */
export function writeProjectFile(spec: ProjectFile, content: string | Buffer): string {
  const real = resolveInside(spec);
  const there = lstatOrUndefined(real);
  const kind = there && nonRegularKind(there);
  if (kind) throw new ConfigError(`Refusing to write ${spec.what}: ${real} is ${kind}, not a regular file`);
  writeFileAtomic(real, content);
  return real;
}

/**
 * Writes `file` whole or not at all: a new temp file next to it (created exclusively, so
 * never through a planted link), flushed, then renamed over it (a rename replaces a link,
 * it does not follow it). A concurrent reader sees the old or the new file, never half.
 */
export function writeFileAtomic(file: string, content: string | Buffer): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, content, { flag: 'wx', flush: true });
    renameSync(temp, file);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // never written
    }
    throw error;
  }
}

export function isWithin(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The real path of `p`, or of its nearest existing parent plus the rest; `dangling`: the link on the way that leads nowhere. */
function realOf(p: string): { real: string } | { dangling: string } {
  const absolute = path.resolve(p);
  let existing = absolute;
  while (!lstatOrUndefined(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    return { real: path.join(realpathSync(existing), path.relative(existing, absolute)) };
  } catch (error) {
    // ENOENT or ELOOP: the link itself exists, where it leads does not.
    if (lstatOrUndefined(existing)?.isSymbolicLink()) return { dangling: existing };
    throw error;
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** What a non-regular file is, in words; undefined for a regular file. */
function nonRegularKind(stat: Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
