import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { joinPosix } from '../../packaging/paths.js';
import type { DagBundle } from './bundle.js';
import { deliverBundle, removeBundle } from './deliver.js';
import { AUTHOR, type GitDeliveryConfig } from './git-config.js';

/** How often a push rejected because another deploy pushed first is redone on top of it. */
const PUSH_ATTEMPTS = 5;
/** One git command's budget: a server that never answers fails within it. */
const GIT_TIMEOUT_MS = 120_000;

export interface GitDelivered {
  /** The DAG file relative to the bundle's folder (git.path): Airflow's relative_fileloc. */
  relativeFile: string;
  changed: boolean;
  /** The branch's commit that holds this release: the bundle version Airflow shows once it has it. */
  commit: string;
}

/**
 * Delivery by git: the DAG and its release are committed to `git.path/<dag_id>/` on
 * `git.branch` and pushed, one commit per deploy. A push refused because the branch moved
 * (another deploy pushed meanwhile) is redone from the new tip, so the other's change is
 * kept. The token travels in an HTTP header set through git's environment, never on a
 * command line or in a URL, and is registered as a secret.
 */
export class GitDelivery {
  constructor(
    private readonly config: GitDeliveryConfig,
    private readonly logger: Logger,
  ) {
    if (config.token) logger.addSecret(config.token);
  }

  /** Fails with one clear line when the repository or its branch cannot be read with these credentials; before anything is written. */
  async checkAccess(): Promise<void> {
    await this.git(undefined, ['ls-remote', '--heads', this.config.url, this.config.branch], 'read');
  }

  async deliver(bundle: DagBundle, message: string): Promise<GitDelivered> {
    let changed = false;
    const commit = await this.commitAndPush(message, (work) => {
      changed = deliverBundle(path.join(work, this.config.path), bundle).changed;
    });
    return { relativeFile: `${bundle.dagId}/${bundle.dagFileName}`, changed, commit };
  }

  /** Removes the deployment's folder with a commit; false when there was none. */
  async remove(dagId: string, message: string): Promise<boolean> {
    let removed = false;
    await this.commitAndPush(message, (work) => {
      removed = removeBundle(path.join(work, this.config.path), dagId);
    });
    return removed;
  }

  /** Where the deployment's files are, for messages. */
  where(dagId: string): string {
    return `${this.config.url} ${this.config.branch}:${joinPosix(this.config.path, dagId)}`;
  }

  /**
   * Fetches the branch tip into a fresh work tree, lets `change` edit it, commits and
   * pushes; on a push refused as not fast-forward, starts again from the new tip.
   * Returns the commit the branch has after it (the tip, when nothing changed).
   */
  private async commitAndPush(message: string, change: (work: string) => void): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const work = mkdtempSync(path.join(tmpdir(), 'lolpop-git-'));
      try {
        await this.git(work, ['init', '--quiet'], 'prepare');
        const tip = await this.fetchTip(work);
        await this.git(work, tip ? ['checkout', '--quiet', '-B', this.config.branch, tip] : ['checkout', '--quiet', '--orphan', this.config.branch], 'prepare');
        change(work);
        await this.git(work, ['add', '--all', '--', '.'], 'prepare');
        const status = await this.git(work, ['status', '--porcelain'], 'prepare');
        if (status.trim() === '') return tip ?? '';
        await this.git(work, ['commit', '--quiet', '--no-verify', '-m', message], 'commit');
        const commit = (await this.git(work, ['rev-parse', 'HEAD'], 'commit')).trim();
        const pushed = await this.push(work);
        if (pushed) return commit;
        if (attempt >= PUSH_ATTEMPTS) {
          throw new OrchestratorError(`git push to ${this.config.url} ${this.config.branch} was refused ${attempt} times: the branch kept moving (other pushes); try again`);
        }
        this.logger.info(`git: ${this.config.branch} moved meanwhile (another push); redoing this commit on top of it (attempt ${attempt + 1} of ${PUSH_ATTEMPTS})`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  }

  /** The branch's tip, or undefined for a branch (or repository) that has no commit yet. */
  private async fetchTip(work: string): Promise<string | undefined> {
    const heads = await this.git(work, ['ls-remote', '--heads', this.config.url, this.config.branch], 'read');
    if (!heads.split('\n').some((line) => line.endsWith(`\trefs/heads/${this.config.branch}`))) return undefined;
    await this.git(work, ['fetch', '--quiet', '--depth', '1', this.config.url, `refs/heads/${this.config.branch}`], 'read');
    return (await this.git(work, ['rev-parse', 'FETCH_HEAD'], 'read')).trim();
  }

  /** True when pushed; false when refused because the branch moved (not fast-forward). */
  private async push(work: string): Promise<boolean> {
    try {
      await this.git(work, ['push', '--quiet', '--porcelain', this.config.url, `HEAD:refs/heads/${this.config.branch}`], 'push');
      return true;
    } catch (error) {
      if (error instanceof GitRejected) return false;
      throw error;
    }
  }

  /** Runs git with the credentials in its environment; a failure becomes one line naming what was refused and the fix. */
  private git(cwd: string | undefined, args: string[], what: 'read' | 'prepare' | 'commit' | 'push'): Promise<string> {
    const { name, email } = author(this.config.author);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // Never wait for a password on a terminal, nor read the user's or system's git config (credential helpers, hooks).
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: email,
      GIT_COMMITTER_NAME: name,
      GIT_COMMITTER_EMAIL: email,
    };
    if (this.config.token) {
      const basic = Buffer.from(`${this.config.username}:${this.config.token}`).toString('base64');
      this.logger.addSecret(basic);
      Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
    }
    return new Promise((resolve, reject) => {
      execFile('git', args, { cwd, env, timeout: GIT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const output = this.logger.redact(`${stderr}\n${stdout}`);
        this.logger.debug(`git ${args[0]}: ${output.trim()}`);
        // Refused because the branch moved: before the push (rejected, fetch first) or while it was applied (the ref lock saw another tip).
        if (what === 'push' && /\[rejected\]|non-fast-forward|fetch first|cannot lock ref .* but expected/.test(output)) return reject(new GitRejected());
        reject(this.failure(args[0]!, what, output, error));
      });
    });
  }

  private failure(command: string, what: string, output: string, error: Error & { killed?: boolean; code?: unknown }): Error {
    const repo = `${this.config.url} (branch ${this.config.branch})`;
    if (error.killed) return new OrchestratorError(`git ${command} against ${repo} did not finish in ${GIT_TIMEOUT_MS / 1000} s; is the server up?`);
    if (/\b401\b|Authentication failed|could not read Username|terminal prompts disabled/.test(output)) {
      return new ConfigError(
        `git refused the credentials for ${repo}: ${this.config.token ? `the token in orchestrator.config.git.token (user ${this.config.username}) was not accepted` : 'no orchestrator.config.git.token is set'}; set a token allowed to ${what === 'push' ? 'push' : 'read'}`,
      );
    }
    if (/\b403\b/.test(output)) {
      return new ConfigError(`git refused to let ${this.config.username} ${what === 'push' ? 'push to' : 'read'} ${repo} (403): give the token write access to the repository`);
    }
    const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    // git's own reason (fatal:/error:, or a refused ref), not its closing chatter.
    const reason = lines.find((l) => /^(fatal|error|remote: error):|^!\s/.test(l)) ?? lines.pop() ?? `exit code ${String(error.code)}`;
    return new OrchestratorError(`git ${command} against ${repo} failed: ${reason}`);
  }
}

class GitRejected extends Error {}

/** The author, checked by the config's schema. */
function author(text: string): { name: string; email: string } {
  const match = AUTHOR.exec(text)!;
  return { name: match[1]!, email: match[2]! };
}
