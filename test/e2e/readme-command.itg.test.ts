import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/services.js';

/** The first command of the README's "The two commands" section, exactly as written. */
function readmeMainCommand(): string {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## The two commands'));
  const block = /```bash\n([^\n]+)\n```/.exec(section);
  if (!block) throw new Error('README has no bash block under "The two commands"');
  return block[1]!;
}

describe("the README's main command, in a copy of the repository as a fresh clone has it", () => {
  it('runs the quickstart on the local orchestrator and prints the state and the report path', () => {
    const command = readmeMainCommand();
    expect(command).toBe('cd examples/quickstart && node ../../dist/cli/index.js up -c lolpop.yaml');

    // Only tracked files (what a clone has): no node_modules, no earlier state.
    const clone = tempDir('clone');
    const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const file of files) {
      if (!existsSync(file)) continue;
      mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
      cpSync(file, path.join(clone, file));
    }
    const res = spawnSync('bash', ['-c', command], { cwd: clone, encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });
    expect(res.status, res.stderr).toBe(0);
    const state = /^Run (\S+): COMPLETED$/m.exec(res.stdout);
    expect(state, res.stdout).not.toBeNull();
    const report = /^Report: (file:\S+report\.html)$/m.exec(res.stdout);
    expect(report, res.stdout).not.toBeNull();
    const html = readFileSync(fileURLToPath(report![1]!), 'utf8');
    expect(html).toContain(state![1]!);
    expect(html).toContain('COMPLETED');
    expect(html).toContain('Model accepted');
  });
});
