import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { tempDir } from '../helpers/services.js';

/** Loads an AirflowOrchestrator config whose orchestrator.config is `config`; the error's message, or '' when it loads. */
function loadError(config: string): string {
  const file = path.join(tempDir('git-config'), 'lolpop.yaml');
  writeFileSync(file, `orchestrator:\n  config:\n${config}\n  deployment:\n    name: d\n    type: local\n    package: {lolpop_class: R, lolpop_module: r}\n`);
  try {
    loadConfigSync(file, { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } }, orchestratorLookup, {});
    return '';
  } catch (error) {
    return (error as Error).message.replaceAll(path.relative(process.cwd(), file), 'lolpop.yaml');
  }
}

const CHOSEN = " (checked as AirflowOrchestrator's config, chosen by --orchestrator)";

describe('orchestrator.config delivery and git: the messages a user sees', () => {
  it('loads a git delivery with its defaults', () => {
    expect(loadError('    delivery: git\n    git: {url: "https://git.example.com/acme/dags.git", token: "t0ken"}')).toBe('');
  });

  it('delivery: git without a repository', () => {
    expect(loadError('    delivery: git')).toBe(`lolpop.yaml:2:3: orchestrator.config.git: delivery is git: name the repository (git: {url: https://…/dags.git, token: \${GIT_TOKEN}})${CHOSEN}`);
  });

  it('a git block or a dags_folder the chosen delivery would ignore', () => {
    expect(loadError('    git: {url: "https://git.example.com/acme/dags.git"}')).toMatch(/^lolpop\.yaml:3:5: orchestrator\.config\.git: only read with delivery: git/);
    expect(loadError('    delivery: git\n    dags_folder: /srv/dags\n    git: {url: "https://git.example.com/acme/dags.git"}')).toMatch(
      /^lolpop\.yaml:4:5: orchestrator\.config\.dags_folder: only read with delivery: folder; delivery git writes no local folder/,
    );
  });

  it('credentials in the URL, a misspelt key and a bad author, each at its line', () => {
    expect(loadError('    delivery: git\n    git:\n      url: "https://bot:secret@git.example.com/acme/dags.git"\n      tokn: x\n      author: nobody')).toBe(
      [
        'lolpop.yaml:5:7: orchestrator.config.git.url: expected the repository as an http(s) URL without credentials in it, e.g. https://git.example.com/acme/dags.git (the token goes in git.token)',
        'lolpop.yaml:7:7: orchestrator.config.git.author: expected "Name <email>", e.g. "ML deploys <ml@example.com>"',
        `lolpop.yaml:6:7: orchestrator.config.git.tokn: unknown key; did you mean token?${CHOSEN}`,
      ].join('\n'),
    );
  });
});
