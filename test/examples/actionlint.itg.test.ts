import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { service, tempDir } from '../helpers/services.js';

// actionlint and shellcheck, installed by scripts/actionlint.sh (.ci/run sets both variables).
const actionlint = service('LOLPOP_TEST_ACTIONLINT');
const shellcheck = service('LOLPOP_TEST_SHELLCHECK');

const WORKFLOW_DIRS = ['examples/workflows', '.github/workflows'];
/** How the examples name this action: users copy them and put in the owner. */
const PUBLISHED_USES = '<owner>/lolpop-deploy@v1';


interface Finding {
  message: string;
  filepath: string;
  line: number;
  column: number;
  kind: string;
}

function workflowFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => path.join(dir, name));
}

/** actionlint's findings in `files`, run from `cwd` (where `uses: ./` finds action.yml). */
function lint(cwd: string, files: string[]): Finding[] {
  // shellcheck checks the `run:` scripts, named so that another one on PATH is not used;
  // no workflow runs Python, so pyflakes is off.
  const res = spawnSync(actionlint!, ['-format', '{{json .}}', `-shellcheck=${shellcheck}`, '-pyflakes=', ...files], { cwd, encoding: 'utf8' });
  // 0: no finding, 1: findings; anything else is actionlint failing to run.
  expect(res.status === 0 || res.status === 1, `actionlint exited ${res.status}: ${res.stderr}`).toBe(true);
  return JSON.parse(res.stdout || '[]') as Finding[];
}

const show = (findings: Finding[]) => findings.map((f) => `${f.filepath}:${f.line}:${f.column}: ${f.message} [${f.kind}]`).join('\n');

/**
 * A repository whose own action is this one (action.yml, a dist/index.js for actionlint to
 * find) with `workflows` in .github/workflows/, every `uses: <owner>/lolpop-deploy@v1` made
 * `uses: ./`: actionlint then checks each `with:` key and each `steps.<id>.outputs.<name>`
 * against action.yml, which it cannot do for a remote action.
 */
function asOwnAction(workflows: Record<string, string>): string {
  const repo = tempDir('actionlint');
  mkdirSync(path.join(repo, '.git'));
  mkdirSync(path.join(repo, '.github', 'workflows'), { recursive: true });
  mkdirSync(path.join(repo, 'dist'));
  writeFileSync(path.join(repo, 'dist', 'index.js'), '');
  writeFileSync(path.join(repo, 'action.yml'), readFileSync('action.yml', 'utf8'));
  for (const [name, text] of Object.entries(workflows)) {
    writeFileSync(path.join(repo, '.github', 'workflows', name), text.replaceAll(PUBLISHED_USES, './'));
  }
  return repo;
}

describe.skipIf(!actionlint || !shellcheck)('workflow files, linted by actionlint', () => {
  it('every file of examples/workflows/ and .github/workflows/ has no finding', () => {
    const files = WORKFLOW_DIRS.flatMap(workflowFiles);
    expect(files.filter((file) => file.startsWith('examples/')).length).toBeGreaterThan(0);
    const findings = lint(process.cwd(), files);
    expect(findings, show(findings)).toEqual([]);
  });

  it("the examples use only this action's inputs and outputs, with the owner put in", () => {
    const examples = workflowFiles('examples/workflows');
    const texts = Object.fromEntries(examples.map((file) => [path.basename(file), readFileSync(file, 'utf8')]));
    // Each example uses this action as a user's workflow would name it.
    for (const [name, text] of Object.entries(texts)) expect(text, name).toContain(`uses: ${PUBLISHED_USES}`);
    const repo = asOwnAction(texts);
    const findings = lint(repo, examples.map((file) => path.join('.github', 'workflows', path.basename(file))));
    expect(findings, show(findings)).toEqual([]);
  });

  it('the whole workflows shown in README.md and docs/ pass too', () => {
    const pages = ['README.md', ...readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => path.join('docs', name))];
    const workflows: Record<string, string> = {};
    for (const page of pages) {
      const blocks = [...readFileSync(page, 'utf8').matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
      // Only whole workflows: the snippets of one step cannot be linted alone.
      blocks.filter((block) => /^jobs:$/m.test(block)).forEach((block, i) => (workflows[`${path.basename(page, '.md')}-${i + 1}.yml`] = block));
    }
    expect(Object.keys(workflows).length).toBeGreaterThan(0);
    const findings = lint(asOwnAction(workflows), Object.keys(workflows).map((name) => path.join('.github', 'workflows', name)));
    expect(findings, show(findings)).toEqual([]);
  });

  it('a broken copy is reported with its file, line and what is wrong, run: scripts too', () => {
    const original = readFileSync('examples/workflows/monorepo.yml', 'utf8');
    const broken = original
      // A permission scope GitHub does not have (it is packages, plural)…
      .replace('packages: write', 'package: write')
      // …an output this action does not set…
      .replace('outputs.results', 'outputs.result-list')
      // …and a variable left unquoted in a run: script (shellcheck's SC2086).
      .replace('echo "$RESULTS"', 'echo $RESULTS');
    expect(broken).not.toBe(original);
    const file = path.join('.github', 'workflows', 'monorepo.yml');
    const findings = lint(asOwnAction({ 'monorepo.yml': broken }), [file]);
    const lineOf = (text: string) => broken.split('\n').findIndex((line) => line.includes(text)) + 1;
    expect(findings.map((f) => [f.filepath, f.line, f.kind])).toEqual([
      [file, lineOf('package: write'), 'permissions'],
      [file, lineOf('echo $RESULTS'), 'shellcheck'],
      [file, lineOf('result-list'), 'expression'],
    ]);
  });
});
