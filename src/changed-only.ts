import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { CiContext } from './ci-context.js';
import type { ResolvedDeployment } from './deployment.js';
import { lastLines, type Exec } from './exec.js';
import { localInstallPaths } from './packaging/dockerfile.js';
import { splitEntrypoint } from './packaging/launcher.js';
import { relativePath } from './packaging/paths.js';
import { splitShellWords } from './packaging/shell-words.js';
import { workflowPaths } from './packaging/workflow-files.js';
import { neededFiles } from './preflight.js';
import { isWithin } from './project-files.js';

/**
 * changed-only: which workflows deploy. What changed between the event's base and head,
 * by real git in the checkout; or, when that cannot be known, why every workflow deploys
 * (`notice`, one line said in the log and the report).
 */
export type ChangeScope = { base: string; root: string; changed: ReadonlySet<string> } | { notice: string };

/** How long fetching one missing commit may take: a hanging remote must not hold the job. */
export const FETCH_TIMEOUT_MS = 60_000;

const ALL = 'changed-only: deploying every workflow';

/**
 * The two commits to compare: `base` given (the CLI's --base) against the event's head (or
 * HEAD); else a pull request's base against its head, a push's `before` against `after`.
 */
export function comparedCommits(ci: CiContext, base?: string): { base: string; head: string } | { notice: string } {
  const head = ci.sha || 'HEAD';
  if (base) return { base, head };
  const { event, eventName } = ci;
  if (eventName === 'pull_request' || eventName === 'pull_request_target') {
    const prBase = event.pull_request?.base?.sha;
    return prBase ? { base: prBase, head } : { notice: `${ALL}: the ${eventName} event names no base commit (pull_request.base.sha)` };
  }
  if (eventName === 'push') {
    if (!event.before || /^0+$/.test(event.before)) return { notice: `${ALL}: this push created the branch, so there is no earlier commit to compare with` };
    return { base: event.before, head: event.after ?? head };
  }
  const what = eventName ? `a ${eventName} event` : 'outside GitHub without --base,';
  return { notice: `${ALL}: ${what} has no base commit to compare with (changed-only compares on pull_request and push events)` };
}

/**
 * The files changed between the compared commits, relative to the repository's top folder.
 * A commit missing from a shallow clone is fetched alone (`--depth=1`, bounded in time);
 * when that fails too, every workflow deploys, with a notice naming the fetch-depth to use.
 */
export async function findChanges(ci: CiContext, workdir: string, exec: Exec, env: NodeJS.ProcessEnv, base?: string): Promise<ChangeScope> {
  const commits = comparedCommits(ci, base);
  if ('notice' in commits) return commits;
  // Never a prompt for credentials: a job has no one to answer it.
  const git = (args: string[], timeoutMs?: number) => exec.run('git', ['-C', workdir, ...args], { env: { ...env, GIT_TERMINAL_PROMPT: '0' }, timeoutMs });
  const top = await git(['rev-parse', '--show-toplevel']);
  if (top.exitCode !== 0) return { notice: `${ALL}: ${workdir} is not in a git checkout (${lastLines(top.stderr, 1)})` };
  for (const commit of [commits.base, commits.head]) {
    if ((await git(['cat-file', '-e', `${commit}^{commit}`])).exitCode === 0) continue;
    const fetched = await git(['fetch', '--no-tags', '--depth=1', 'origin', commit], FETCH_TIMEOUT_MS);
    if (fetched.exitCode === 0 && (await git(['cat-file', '-e', `${commit}^{commit}`])).exitCode === 0) continue;
    const why = lastLines(fetched.stderr, 1) || `no answer in ${FETCH_TIMEOUT_MS / 1000} s`;
    return {
      notice: `${ALL}: commit ${commit.slice(0, 12)} is not in this clone and fetching it failed (${why}); check out with fetch-depth: 0 (actions/checkout) so that it is there`,
    };
  }
  // -z: names as they are (no quoting); --no-renames: a moved file counts where it was and where it is.
  const diff = await git(['diff', '--name-only', '-z', '--no-renames', commits.base, commits.head]);
  if (diff.exitCode !== 0) return { notice: `${ALL}: git diff ${commits.base.slice(0, 12)} ${commits.head.slice(0, 12)} failed (${lastLines(diff.stderr, 1)})` };
  // As a commit, for the report: the CLI's --base may be a branch name.
  const baseSha = (await git(['rev-parse', `${commits.base}^{commit}`])).stdout.trim() || commits.base;
  return { base: baseSha, root: top.stdout.trim(), changed: new Set(diff.stdout.split('\0').filter(Boolean)) };
}

/**
 * A workflow's own files, relative to the working directory: its config file, what its
 * image or release takes (workflowPaths), the runner module and the files the run reads
 * (preflight's neededFiles), the Dockerfile and the local files pip installs from, and its
 * deploy.watch_files globs. A folder in `paths` counts with everything under it.
 */
export function watchedPaths(d: ResolvedDeployment, configFile: string, workdir: string): { paths: string[]; globs: string[] } {
  const pkg = d.package;
  const own = workflowPaths(pkg, d.ownFlow ? splitEntrypoint(d.entrypoint).file : undefined);
  const paths = [path.relative(workdir, configFile), ...own.files, ...(own.folder === undefined ? [] : [own.folder])];
  for (const needed of neededFiles(d)) {
    // A runner module that is a package is its whole folder, not only its __init__.py.
    paths.push(...needed.candidates.map((c) => (path.posix.basename(c) === '__init__.py' ? path.posix.dirname(c) : c)));
  }
  if (pkg.package_type === 'docker') {
    paths.push(relativePath('dockerfile_path', pkg.dockerfile_path));
    const install = pkg.lolpop_install_location.trim();
    if (install !== '') paths.push(...localInstallPaths(splitShellWords(install, 'lolpop_install_location').words));
  }
  return { paths: [...new Set(paths)], globs: d.deploy.watch_files ?? [] };
}

/** The first of the workflow's files among the changed ones (relative to the working directory), or undefined. */
export function firstChanged(d: ResolvedDeployment, configFile: string, workdir: string, scope: Extract<ChangeScope, { changed: unknown }>): string | undefined {
  const watched = watchedPaths(d, configFile, workdir);
  // git names files under the real top folder: the working directory is compared as such too.
  const realWorkdir = realpathSync(workdir);
  const paths = watched.paths.map((p) => path.resolve(realWorkdir, p));
  for (const changed of scope.changed) {
    const absolute = path.resolve(scope.root, changed);
    const relative = path.relative(realWorkdir, absolute).split(path.sep).join('/');
    if (paths.some((p) => isWithin(p, absolute)) || watched.globs.some((g) => path.matchesGlob(relative, g))) return relative;
  }
  return undefined;
}
