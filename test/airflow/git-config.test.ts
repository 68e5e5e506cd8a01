import { describe, expect, it } from 'vitest';
import { airflowConfigError, CHOSEN } from './config-error.js';

describe('orchestrator.config delivery and git: the messages a user sees', () => {
  it('loads a git delivery with its defaults', () => {
    expect(airflowConfigError('    delivery: git\n    git: {url: "https://git.example.com/acme/dags.git", token: "t0ken"}')).toBe('');
  });

  it('delivery: git without a repository', () => {
    expect(airflowConfigError('    delivery: git')).toBe(`lolpop.yaml:2:3: orchestrator.config.git: delivery is git: name the repository (git: {url: https://…/dags.git, token: \${GIT_TOKEN}})${CHOSEN}`);
  });

  it('a git block or a dags_folder the chosen delivery would ignore', () => {
    expect(airflowConfigError('    git: {url: "https://git.example.com/acme/dags.git"}')).toMatch(/^lolpop\.yaml:3:5: orchestrator\.config\.git: only read with delivery: git/);
    expect(airflowConfigError('    delivery: git\n    dags_folder: /srv/dags\n    git: {url: "https://git.example.com/acme/dags.git"}')).toMatch(
      /^lolpop\.yaml:4:5: orchestrator\.config\.dags_folder: only read with delivery: folder; delivery git writes no local folder/,
    );
  });

  it('credentials in the URL, a misspelt key and a bad author, each at its line', () => {
    expect(airflowConfigError('    delivery: git\n    git:\n      url: "https://bot:secret@git.example.com/acme/dags.git"\n      tokn: x\n      author: nobody')).toBe(
      [
        'lolpop.yaml:5:7: orchestrator.config.git.url: expected the repository as an http(s) URL without credentials in it, e.g. https://git.example.com/acme/dags.git (the token goes in git.token), ' +
          'or an SSH one, e.g. ssh://git@git.example.com/acme/dags.git or git@git.example.com:acme/dags.git (the deploy key goes in git.ssh_key_env)',
        'lolpop.yaml:7:7: orchestrator.config.git.author: expected "Name <email>", e.g. "ML deploys <ml@example.com>"',
        `lolpop.yaml:6:7: orchestrator.config.git.tokn: unknown key; did you mean token?${CHOSEN}`,
      ].join('\n'),
    );
  });

  it('an SSH url (ssh:// or scp-style) with its deploy key loads; each transport refuses the other\'s keys, at their lines', () => {
    expect(airflowConfigError('    delivery: git\n    git: {url: "ssh://git@git.example.com:2222/acme/dags.git", ssh_key_env: DAGS_KEY, known_hosts_file: .github/known_hosts}')).toBe('');
    expect(airflowConfigError('    delivery: git\n    git: {url: "git@git.example.com:acme/dags.git", ssh_key_env: DAGS_KEY, known_hosts_env: DAGS_HOSTS}')).toBe('');
    expect(airflowConfigError('    delivery: git\n    git:\n      url: "ssh://git@git.example.com/acme/dags.git"\n      token: t0ken')).toBe(
      [
        'lolpop.yaml:4:5: orchestrator.config.git.ssh_key_env: an SSH url needs a deploy key: name the environment variable that holds it, e.g. ssh_key_env: AIRFLOW_DAGS_DEPLOY_KEY',
        'lolpop.yaml:6:7: orchestrator.config.git.token: only read with an http(s) url; an SSH url authenticates with ssh_key_env: remove it',
      ].join('\n') + CHOSEN,
    );
    expect(airflowConfigError('    delivery: git\n    git:\n      url: "https://git.example.com/acme/dags.git"\n      ssh_key_env: DAGS_KEY')).toBe(
      `lolpop.yaml:6:7: orchestrator.config.git.ssh_key_env: only read with an SSH url (ssh://… or user@host:path): remove it, or use an SSH url${CHOSEN}`,
    );
    expect(airflowConfigError('    delivery: git\n    git:\n      url: "git@h:a/d.git"\n      ssh_key_env: "-----BEGIN"\n      known_hosts_env: H\n      known_hosts_file: k')).toBe(
      [
        'lolpop.yaml:6:7: orchestrator.config.git.ssh_key_env: expected the name of an environment variable, e.g. AIRFLOW_DAGS_DEPLOY_KEY (not the key itself)',
        'lolpop.yaml:8:7: orchestrator.config.git.known_hosts_file: give the host keys one way: known_hosts_env or known_hosts_file, not both',
      ].join('\n') + CHOSEN,
    );
  });
});
