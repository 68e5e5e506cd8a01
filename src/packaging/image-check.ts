import { CommandError } from '../errors.js';
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

/**
 * The lolpop version the install line asks for: `lolpop==X` pins X; otherwise lolpop-deploy
 * needs 0.2.0 or newer (the first with orchestrators). Undefined when the line installs no
 * lolpop from an index (empty, or a local archive or URL: then only "some lolpop" is asked).
 */
export function requestedLolpop(install: string): { exact?: string; minimum?: string } | undefined {
  const { words } = splitShellWords(install, 'lolpop_install_location');
  const spec = words.find((w) => /^lolpop(\[[^\]]*\])?([=<>!~].*)?$/i.test(w));
  if (!spec) return undefined;
  const exact = /==\s*([0-9][^,;\s]*)$/.exec(spec)?.[1];
  return exact ? { exact } : { minimum: '0.2.0' };
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
  asked: { lolpop?: { exact?: string; minimum?: string }; serverPrefect?: string },
): string[] {
  const problems: string[] = [];
  const lolpop = asked.lolpop;
  if (lolpop) {
    const have = versions.lolpop;
    const ok = have !== null && (lolpop.exact ? have === lolpop.exact : compareVersions(have, lolpop.minimum!) >= 0);
    if (!ok) {
      const want = lolpop.exact ? `lolpop ${lolpop.exact}` : `lolpop ${lolpop.minimum} or newer`;
      const why = /^3\.(1[2-9]|[2-9]\d)\./.test(versions.python) ? ` (lolpop 0.2.0 needs Python < 3.12; the image has Python ${versions.python}: use base_image prefecthq/prefect:2-python3.11)` : '';
      problems.push(`${image} has ${have === null ? 'no lolpop' : `lolpop ${have}`}, not ${want}${why}`);
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

function major(version: string): number {
  return Number(/^(\d+)/.exec(version)?.[1] ?? NaN);
}

/** Numeric comparison of dotted versions; a pre-release (0.1.0a2) sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).map((p) => /^(\d+)(.*)$/.exec(p) ?? [p, '0', p]);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [, na = '0', ra = ''] = pa[i] ?? [];
    const [, nb = '0', rb = ''] = pb[i] ?? [];
    if (Number(na) !== Number(nb)) return Number(na) - Number(nb);
    if (ra !== rb) return ra === '' ? 1 : rb === '' ? -1 : ra < rb ? -1 : 1;
  }
  return 0;
}
