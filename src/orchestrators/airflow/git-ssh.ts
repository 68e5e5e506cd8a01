import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { GitDeliveryConfig } from './git-config.js';

/** What git needs to reach the repository over SSH for one command, and the clean-up after it. */
export interface SshSession {
  env: Record<string, string>;
  /** Removes the key file (and the known_hosts copy): always called, whatever git did. */
  close(): void;
}

/**
 * The deploy key of `delivery: git` over SSH. The private key comes from the environment
 * variable git.ssh_key_env, is registered as a secret, and exists on disk only while one
 * git command runs: in a 0600 file of a 0700 temporary folder, removed after it. The
 * server's host key is always checked (StrictHostKeyChecking=yes): against
 * git.known_hosts_env or git.known_hosts_file when set, else ssh's own
 * ~/.ssh/known_hosts; an unknown or changed host key is refused with the fix, never
 * accepted. The user's ~/.ssh/config and agent are not used (-F /dev/null,
 * IdentitiesOnly, IdentityAgent none): only this key is offered.
 */
export class SshDeployKey {
  private key?: string;
  private knownHosts?: string;

  constructor(
    private readonly config: GitDeliveryConfig & { ssh_key_env: string },
    private readonly env: NodeJS.ProcessEnv,
    private readonly workdir: string,
    private readonly logger: Logger,
  ) {}

  /** Reads the key (and the known hosts) once; a missing or unreadable one fails with one line, before anything is written. */
  open(): SshSession {
    this.load();
    const dir = mkdtempSync(path.join(tmpdir(), 'lolpop-ssh-'));
    try {
      chmodSync(dir, 0o700);
      const keyFile = path.join(dir, 'deploy_key');
      writeFileSync(keyFile, this.key!, { mode: 0o600 });
      const options = ['-F /dev/null', `-i ${keyFile}`, '-o IdentitiesOnly=yes', '-o IdentityAgent=none', '-o BatchMode=yes', '-o StrictHostKeyChecking=yes', '-o ConnectTimeout=30'];
      if (this.knownHosts !== undefined) {
        const knownHostsFile = path.join(dir, 'known_hosts');
        writeFileSync(knownHostsFile, this.knownHosts, { mode: 0o600 });
        options.push(`-o UserKnownHostsFile=${knownHostsFile}`, '-o GlobalKnownHostsFile=/dev/null');
      }
      // The folder's name is mkdtemp's (letters, digits, '-') under tmpdir: nothing in it needs quoting for git's shell.
      return { env: { GIT_SSH_COMMAND: `ssh ${options.join(' ')}`, GIT_SSH_VARIANT: 'ssh' }, close: () => rmSync(dir, { recursive: true, force: true }) };
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** ssh's refusal in git's output as one line with the fix, or undefined when it was not ssh that refused. */
  failure(output: string, repo: string, what: string): ConfigError | undefined {
    const server = sshServer(this.config.url);
    const hostKeys = this.hostKeysSource();
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(output)) {
      return new ConfigError(
        `ssh refused ${server}: its host key is not the one in ${hostKeys} (a new server key, or someone in between); check the new key's fingerprint with the server's admin, then replace its line in ${hostKeys}`,
      );
    }
    if (/Host key verification failed|No \S+ host key is known|host key for .* is unknown/i.test(output)) {
      const [host, port] = server.split(':');
      return new ConfigError(
        `ssh refused ${server}: its host key is not in ${hostKeys}, and host keys are always checked; add the server's line there (e.g. the output of ssh-keyscan ${port ? `-p ${port} ` : ''}${host}, its fingerprint checked with the server's admin)`,
      );
    }
    // A key ssh cannot load is skipped, and the server then says Permission denied: the key's own problem first.
    if (/Load key .*: (invalid format|error in libcrypto|incorrect passphrase)/.test(output)) {
      return new ConfigError(
        `ssh could not read the deploy key in ${this.config.ssh_key_env} (orchestrator.config.git.ssh_key_env): put the whole private key in it, its BEGIN and END lines included, without a passphrase`,
      );
    }
    if (/Permission denied \(publickey/.test(output)) {
      return new ConfigError(
        `git over ssh refused the deploy key for ${repo}: the key in ${this.config.ssh_key_env} (orchestrator.config.git.ssh_key_env) was not accepted; add its public key to the repository as a deploy key allowed to ${what === 'push' ? 'push (write access)' : 'read'}`,
      );
    }
    return undefined;
  }

  private load(): void {
    if (this.key !== undefined) return;
    const name = this.config.ssh_key_env;
    const raw = this.env[name];
    if (!raw || raw.trim() === '') {
      throw new ConfigError(`orchestrator.config.git.ssh_key_env names ${name}, which is not set or empty: put the deploy key (the private key) in it, e.g. env: ${name}: \${{ secrets.${name} }}`);
    }
    this.logger.addSecret(raw.trim());
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(raw)) {
      throw new ConfigError(`${name} (orchestrator.config.git.ssh_key_env) holds no private key: expected a key starting with -----BEGIN OPENSSH PRIVATE KEY----- (the private half of the deploy key, not its .pub)`);
    }
    // Secrets often lose their last newline or gain \r; ssh needs LF lines and a final newline.
    this.key = `${raw.replace(/\r\n?/g, '\n').trim()}\n`;
    this.knownHosts = this.readKnownHosts();
  }

  private readKnownHosts(): string | undefined {
    if (this.config.known_hosts_env !== undefined) {
      const text = this.env[this.config.known_hosts_env];
      if (!text || text.trim() === '') {
        throw new ConfigError(
          `orchestrator.config.git.known_hosts_env names ${this.config.known_hosts_env}, which is not set or empty: put the server's known_hosts line(s) in it (e.g. the output of ssh-keyscan, checked)`,
        );
      }
      return `${text.replace(/\r\n?/g, '\n').trim()}\n`;
    }
    if (this.config.known_hosts_file !== undefined) {
      const file = path.resolve(this.workdir, this.config.known_hosts_file);
      try {
        return readFileSync(file, 'utf8');
      } catch (error) {
        throw new ConfigError(`orchestrator.config.git.known_hosts_file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}): commit the server's known_hosts line(s) there, or use known_hosts_env`);
      }
    }
    return undefined;
  }

  /** Where the host keys are looked up, as messages name it. */
  private hostKeysSource(): string {
    if (this.config.known_hosts_env !== undefined) return `${this.config.known_hosts_env} (orchestrator.config.git.known_hosts_env)`;
    if (this.config.known_hosts_file !== undefined) return `${this.config.known_hosts_file} (orchestrator.config.git.known_hosts_file)`;
    return '~/.ssh/known_hosts (or name one in orchestrator.config.git.known_hosts_env / known_hosts_file)';
  }
}

/** `host` or `host:port` of an SSH url (ssh://user@host:port/path, or user@host:path). */
export function sshServer(url: string): string {
  const ssh = /^ssh:\/\/(?:[^@/]+@)?([^/:]+)(?::(\d+))?\//.exec(url);
  if (ssh) return ssh[2] ? `${ssh[1]}:${ssh[2]}` : ssh[1]!;
  return /^[^@]+@([^:]+):/.exec(url)?.[1] ?? url;
}
