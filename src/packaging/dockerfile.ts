import { posix } from 'node:path';
import type { PackageKwargs } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { GENERATED_HEADER } from './generated.js';
import { joinPosix, prefectFilesDir, relativePath } from './paths.js';
import { splitShellWords } from './shell-words.js';

/** Where the image keeps the workflow (lolpop's WORKDIR). */
export const IMAGE_WORKDIR = '/opt/prefect';

/**
 * The Dockerfile lolpop would write for these kwargs, with its layers reordered for the
 * build cache: dependencies (lolpop_install_location, then a requirements.txt from
 * copy_files) are installed before the workflow's code and data are copied, so editing
 * the code does not re-run pip. An empty lolpop_install_location skips the lolpop install
 * (for a base image that already has it). Labels are not written here: they are passed
 * at build time.
 */
export function renderDockerfile(kwargs: PackageKwargs): string {
  const baseImage = kwargs.base_image.trim();
  // An image reference has none of whitespace, quotes or `$` (which FROM would expand as a build argument).
  if (!/^[A-Za-z0-9._:/@-]+$/.test(baseImage)) {
    throw new ConfigError(`Invalid base_image '${kwargs.base_image}'. Expected an image reference, e.g. prefecthq/prefect:2-python3.11.`);
  }
  const copyFiles = kwargs.copy_files.map((f) => relativePath('copy_files', f));
  const requirements = copyFiles.filter((f) => posix.basename(f) === 'requirements.txt');
  const otherFiles = copyFiles.filter((f) => !requirements.includes(f));
  const workflowDir = workflowDirFor(kwargs);

  const lines = [GENERATED_HEADER, `FROM ${baseImage}`, `WORKDIR ${IMAGE_WORKDIR}`];
  // Prepend without leaving an empty entry: `$PYTHONPATH:/opt/prefect` with PYTHONPATH
  // unset (lolpop's form) puts "" — the current directory — on sys.path.
  lines.push(`ENV PYTHONPATH="${IMAGE_WORKDIR}\${PYTHONPATH:+:\${PYTHONPATH}}"`);
  const install = kwargs.lolpop_install_location.trim();
  if (install !== '') {
    // A local wheel or sdist (lolpop's PrefectOrchestrator docs install prefect_files/lolpop-testing.tar.gz)
    // must be in the image before pip runs; it keeps its path so the command still works.
    const { words } = splitShellWords(install, 'lolpop_install_location');
    for (const path of localInstallPaths(words)) lines.push(copy([path], path));
    // pip's arguments, each quoted for the shell RUN starts: no `$(…)`, `;` or glob of the
    // user's becomes shell syntax, and a trailing backslash cannot continue the line.
    lines.push(`RUN pip install --no-cache-dir ${words.map(shellQuote).join(' ')}`);
  }
  for (const file of requirements) {
    lines.push(copy([file], './'), 'RUN pip install --no-cache-dir -r requirements.txt');
  }
  // lolpop copies copy_files flat into the workdir: the runner reads e.g. train.csv from there.
  if (otherFiles.length > 0) lines.push(copy(otherFiles, './'));
  // Same relative path as on the runner, so config_file, run_cmd and the flow
  // entrypoint (prefect_files/run.py:prefect_entrypoint) mean the same in both places.
  lines.push(copy([workflowDir], workflowDir === '.' ? './' : `${workflowDir}/`));
  lines.push(`CMD ${execForm(runCommandFor(kwargs))}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The command the image runs: `run_cmd`, else `python {prefect_files}/run.py` for the
 * generated wrapper, or `python path/to/flow.py` for the user's own flow_entrypoint.
 */
export function runCommandFor(kwargs: PackageKwargs): string {
  if (kwargs.run_cmd !== undefined) return kwargs.run_cmd;
  if (kwargs.flow_entrypoint !== undefined) return `python ${flowFile(kwargs.flow_entrypoint)}`;
  return `python ${joinPosix(prefectFilesDir(kwargs), 'run.py')}`;
}

/** The directory holding the flow's code: prefect_files, or the user's flow file's directory. */
export function workflowDirFor(kwargs: PackageKwargs): string {
  if (kwargs.flow_entrypoint === undefined) return prefectFilesDir(kwargs);
  return relativePath('flow_entrypoint', posix.dirname(flowFile(kwargs.flow_entrypoint)));
}

function flowFile(flowEntrypoint: string): string {
  return relativePath('flow_entrypoint', flowEntrypoint.slice(0, flowEntrypoint.lastIndexOf(':')));
}

/**
 * The arguments of `pip install …` that name files or directories of the build context:
 * `-r`/`-c`/`-e` values and anything path-like (`./x`, `dir/x`, `*.whl`, `*.tar.gz`),
 * without pip extras (`pkg.tar.gz[cli]` → `pkg.tar.gz`). URLs and VCS specs are remote;
 * absolute paths are already in the base image.
 */
function localInstallPaths(words: string[]): string[] {
  const paths: string[] = [];
  words.forEach((word, i) => {
    if (word.startsWith('-') || word.includes('://') || word.startsWith('git+') || word.startsWith('/')) return;
    const takesPath = ['-r', '--requirement', '-c', '--constraint', '-e', '--editable'].includes(words[i - 1] ?? '');
    const path = word.replace(/\[[^\]]*\]$/, '');
    const pathLike = path === '.' || path.includes('/') || /\.(whl|tar\.gz|tgz|zip|txt)$/.test(path);
    if (takesPath || pathLike) paths.push(relativePath('lolpop_install_location', path));
  });
  return [...new Set(paths)];
}

/** A word the shell reads as itself: bare when it holds nothing special, else in single quotes. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

// Characters that need nothing in a COPY path: Docker reads the rest as syntax.
const PLAIN_PATH = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * A COPY instruction that copies exactly the paths named. Plain paths are written as they
 * are; any other makes it the JSON form, each path escaped twice: for the source's glob
 * (`*`, `?`, `[` and `\` each become a one-character class: an escaped glob character
 * alone would be taken literally, backslash included), then for Docker's word processing,
 * which expands `$VAR`, removes quotes and takes a backslash as an escape in COPY's JSON
 * form too.
 */
function copy(sources: string[], dest: string): string {
  const all = [...sources, dest];
  if (all.every((p) => PLAIN_PATH.test(p))) return `COPY ${all.join(' ')}`;
  const words = [...sources.map(globLiteral), dest].map((p) => p.replace(/[\\$'"]/g, '\\$&'));
  return `COPY [${words.map((p) => JSON.stringify(p)).join(', ')}]`;
}

function globLiteral(path: string): string {
  return path.replace(/[*?[\\]/g, (c) => `[${c === '\\' ? '\\\\' : c}]`);
}

/**
 * A JSON exec-form CMD, so the process gets signals directly; a command that relies on
 * shell syntax (&&, $VAR, redirections, …) runs through `/bin/sh -c` instead of having
 * that syntax passed to python as literal arguments.
 */
function execForm(command: string): string {
  const { words, needsShell } = splitShellWords(command, 'run_cmd');
  if (words.length === 0) throw new ConfigError("Invalid run_cmd ''. Expected a command, e.g. python prefect_files/run.py.");
  const argv = needsShell ? ['/bin/sh', '-c', command] : words;
  return `[${argv.map((a) => JSON.stringify(a)).join(', ')}]`;
}
