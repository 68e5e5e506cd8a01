import { CommandError } from '../errors.js';
import { major, satisfies } from '@renovatebot/pep440';
import { splitShellWords } from './shell-words.js';

/** What the built image has installed, as its own Python reports it. */
export interface ImageVersions {
  python: string;
  prefect: string | null;
  lolpop: string | null;
}

/** Printed by the image's python: the versions pip installed, read from package metadata. */
export const VERSIONS_PY = [
  'import json, sys',
  'from importlib.metadata import version, PackageNotFoundError',
  'def v(name):',
  '    try:',
  '        return version(name)',
  '    except PackageNotFoundError:',
  '        return None',
  'print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "prefect": v("prefect"), "lolpop": v("lolpop")}))',
].join('\n');

export function parseImageVersions(stdout: string): ImageVersions {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as Partial<ImageVersions>;
    if (typeof parsed.python === 'string') return { python: parsed.python, prefect: parsed.prefect ?? null, lolpop: parsed.lolpop ?? null };
  } catch {
    // fall through
  }
  throw new CommandError(`Failed to read the image's versions: its python printed ${JSON.stringify(line.slice(0, 200))}`);
}

const FIRST_LOLPOP_WITH_ORCHESTRATORS = '0.2.0';

/**
 * The lolpop versions the install line asks for, as a PEP 440 specifier: its own
 * (`lolpop==0.2.0`, `lolpop>=0.2,<0.3`), else `>=0.2.0` (the first with orchestrators).
 * Undefined when the line installs no lolpop from an index (empty, or a local archive or
 * URL: then only "some lolpop" is asked).
 */
export function requestedLolpop(install: string): string | undefined {
  const { words } = splitShellWords(install, 'lolpop_install_location');
  for (const word of words) {
    const match = /^lolpop(\[[^\]]*\])?\s*([=<>!~][^;]*)?(;.*)?$/i.exec(word);
    if (match) return match[2]?.trim() || `>=${FIRST_LOLPOP_WITH_ORCHESTRATORS}`;
  }
  return undefined;
}

/**
 * The problems that would make the image fail only at run time, each one line: the
 * lolpop pip resolved is not the one asked for (on Python 3.12+ pip silently picks
 * lolpop 0.1.0a2, which has no orchestrators), or the image's Prefect major differs
 * from the server's (a Prefect 2 client cannot run flows of a Prefect 3 server).
 */
export function imageProblems(
  image: string,
  versions: ImageVersions,
  asked: { lolpop?: string; serverPrefect?: string },
): string[] {
  const problems: string[] = [];
  const lolpop = asked.lolpop;
  if (lolpop) {
    const have = versions.lolpop;
    // PEP 440, as pip compares: 0.2.0.post1 is newer than 0.2.0, 0.2.0rc1 older, 0.2 equals 0.2.0.
    if (have === null || !satisfies(have, lolpop)) {
      const why = /^3\.(1[2-9]|[2-9]\d)\./.test(versions.python) ? ` (lolpop 0.2.0 needs Python < 3.12; the image has Python ${versions.python}: use base_image prefecthq/prefect:2-python3.11)` : '';
      problems.push(`${image} has ${have === null ? 'no lolpop' : `lolpop ${have}`}, not lolpop${lolpop}${why}`);
    }
  }
  if (asked.serverPrefect && versions.prefect !== null && major(versions.prefect) !== major(asked.serverPrefect)) {
    problems.push(
      `${image} has Prefect ${versions.prefect} but the server runs Prefect ${asked.serverPrefect}: flow runs would fail in the image; ` +
        `use a Prefect ${major(asked.serverPrefect)} base image${major(asked.serverPrefect) >= 3 && asked.lolpop ? ' (lolpop 0.2.0 itself needs Prefect 2)' : ''}`,
    );
  }
  if (asked.serverPrefect && versions.prefect === null) problems.push(`${image} has no Prefect installed: a Prefect worker cannot run it`);
  return problems;
}
