import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitDeliveryConfig } from '../../src/orchestrators/airflow/git-config.js';
import { SshDeployKey, sshServer } from '../../src/orchestrators/airflow/git-ssh.js';
import { MemoryLogger } from '../../src/logger.js';
import { tempDir } from '../helpers/services.js';

const KEY = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', '-----END OPENSSH PRIVATE KEY-----'].join('\r\n');

function deployKey(env: NodeJS.ProcessEnv, extra: Record<string, string> = {}) {
  const config = GitDeliveryConfig.parse({ url: 'ssh://git@git.example.com:2222/acme/dags.git', ssh_key_env: 'DAGS_KEY', ...extra });
  const logger = new MemoryLogger();
  return { key: new SshDeployKey({ ...config, ssh_key_env: 'DAGS_KEY' }, env, tempDir('ssh-workdir'), logger), logger };
}

/** The path after `-o NAME=` or `-i` in GIT_SSH_COMMAND. */
const option = (command: string, name: string) => new RegExp(`${name}[= ](\\S+)`).exec(command)?.[1];

describe('the SSH deploy key', () => {
  it('is written for one git command only: a 0600 file in a 0700 folder, LF lines ending in a newline, removed by close; host keys checked', () => {
    const { key, logger } = deployKey({ DAGS_KEY: KEY, HOSTS: '[git.example.com]:2222 ssh-ed25519 AAAA\r\n' }, { known_hosts_env: 'HOSTS' });
    const session = key.open();
    const command = session.env.GIT_SSH_COMMAND!;
    const keyFile = option(command, '-i')!;
    expect(readFileSync(keyFile, 'utf8')).toBe(`${KEY.replaceAll('\r\n', '\n')}\n`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(keyFile)).mode & 0o777).toBe(0o700);
    expect(readFileSync(option(command, 'UserKnownHostsFile')!, 'utf8')).toBe('[git.example.com]:2222 ssh-ed25519 AAAA\n');
    expect(command).toContain('-o StrictHostKeyChecking=yes');
    expect(command).toContain('-o GlobalKnownHostsFile=/dev/null');
    expect(command).toContain('-F /dev/null');
    session.close();
    expect(existsSync(path.dirname(keyFile))).toBe(false);
    // Registered as a secret: each of its lines is masked wherever it would be printed.
    expect(logger.redact(`key: ${KEY.split('\r\n')[1]}`)).toBe('key: ***');
  });

  it('a missing key, or a value that is no private key, is one line naming the variable and the fix; nothing is written', () => {
    expect(() => deployKey({}).key.open()).toThrow(
      'orchestrator.config.git.ssh_key_env names DAGS_KEY, which is not set or empty: put the deploy key (the private key) in it, e.g. env: DAGS_KEY: ${{ secrets.DAGS_KEY }}',
    );
    expect(() => deployKey({ DAGS_KEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPublicHalfOnly me@host' }).key.open()).toThrow(
      'DAGS_KEY (orchestrator.config.git.ssh_key_env) holds no private key: expected a key starting with -----BEGIN OPENSSH PRIVATE KEY----- (the private half of the deploy key, not its .pub)',
    );
    expect(() => deployKey({ DAGS_KEY: KEY }, { known_hosts_file: 'missing_known_hosts' }).key.open()).toThrow(/^orchestrator\.config\.git\.known_hosts_file: cannot read .*missing_known_hosts \(ENOENT\)/);
  });

  it('a key ssh cannot load is named as such, not as a key the server refused', () => {
    const { key } = deployKey({ DAGS_KEY: KEY });
    const output = 'Load key "/tmp/lolpop-ssh-x/deploy_key": invalid format\r\ngit@git.example.com: Permission denied (publickey).\r\nfatal: Could not read from remote repository.';
    expect(key.failure(output, 'ssh://git@git.example.com:2222/acme/dags.git (branch main)', 'read')?.message).toBe(
      'ssh could not read the deploy key in DAGS_KEY (orchestrator.config.git.ssh_key_env): put the whole private key in it, its BEGIN and END lines included, without a passphrase',
    );
    expect(key.failure('git@git.example.com: Permission denied (publickey).', 'R', 'push')?.message).toBe(
      'git over ssh refused the deploy key for R: the key in DAGS_KEY (orchestrator.config.git.ssh_key_env) was not accepted; add its public key to the repository as a deploy key allowed to push (write access)',
    );
  });

  it('names the server as ssh-keyscan takes it', () => {
    expect(sshServer('ssh://git@git.example.com:2222/acme/dags.git')).toBe('git.example.com:2222');
    expect(sshServer('ssh://git.example.com/acme/dags.git')).toBe('git.example.com');
    expect(sshServer('git@git.example.com:acme/dags.git')).toBe('git.example.com');
  });
});
