import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, runBundledAction, type ActionRun } from '../helpers/run-action.js';
import { CLI_BUNDLE, runBundledCli } from '../helpers/run-cli.js';
import { service, tempDir } from '../helpers/services.js';
import { obeyedCommands } from './runner-commands.js';
import { encodingsOf, HOSTILE_SECRET } from './secret-encodings.js';

const node24 = service('LOLPOP_TEST_NODE24');
const CLI = CLI_BUNDLE;
const API_KEY = 'pnu_echoed0123456789abcdef';

// The workflow's own run prints what a hostile run would: a workflow command, a terminal
// sequence, and the secret parameter as Python prints it (the launcher prints it with json.dumps).
const RUNNER_PY = `
class Evil:
    def __init__(self, conf=None, skip_config_validation=False):
        pass

    def build_all(self, sa, team):
        print("::warning::injected by the run")
        print("##[add-mask]" + team)
        print("\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred")
        print("the key is %r" % sa)
`;

const CONFIG = `orchestrator:
  deployment:
    name: hostile
    package:
      lolpop_class: Evil
      lolpop_module: evil_runner
      lolpop_install_location: ""
    run:
      wait: true
      parameters:
        sa: \${GCP_CREDENTIALS}
        team: \${TEAM}
      # A secret parameter must be named (else the load refuses it); the run still receives
      # and prints it, and every exit must hide it in whatever form it is printed.
      secret_parameters: [sa]
`;

// A team name that is not secret (and not part of the secret, so masking it would not hide the secret's forms).
const SECRET_ENV = { GCP_CREDENTIALS: HOSTILE_SECRET, TEAM: 'vision' };

/** Where any form of the secret shows, ignoring the ::add-mask:: lines that register them with the runner. */
function shownForms(text: string): string[] {
  const visible = text
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  return Object.entries(encodingsOf(HOSTILE_SECRET))
    .filter(([, form]) => visible.includes(form))
    .map(([name]) => name);
}

function project(): string {
  const dir = tempDir('redact-bundle');
  writeFileSync(path.join(dir, 'lolpop.yaml'), CONFIG);
  writeFileSync(path.join(dir, 'evil_runner.py'), RUNNER_PY);
  return dir;
}

function githubEnv(dir: string): Record<string, string> {
  const eventPath = path.join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40), repository: { full_name: 'acme/hostile' } }));
  return {
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REPOSITORY: 'acme/hostile',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_NUMBER: '1',
  };
}


// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('the bundled action (Node 24) and CLI: no form of a secret, no command, no terminal sequence gets out', () => {
  beforeAll(() => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    expect(existsSync(CLI), 'dist/cli/index.js must be built (npm run bundle)').toBe(true);
  });

  describe.skipIf(!node24)('the action', () => {
    async function action(steps: string): Promise<ActionRun> {
      const dir = project();
      return runBundledAction({ node: node24!, cwd: dir, inputs: { steps, comment: 'never' }, env: { ...githubEnv(dir), ...SECRET_ENV } });
    }

    it('steps: plan shows the parameters JSON-encoded: no form of the secret in the log, outputs or summary', async () => {
      const run = await action('plan');
      expect(run.status, run.log).toBe(0);
      expect(shownForms(run.log), run.log).toEqual([]);
      expect(shownForms(JSON.stringify(run.outputs))).toEqual([]);
      expect(shownForms(run.summary), run.summary).toEqual([]);
      expect(run.summary).toContain('"team":"vision"');
    });

    it('a local run printing ::warning:: and the secret as Python does: the runner obeys nothing, sees no form of it', async () => {
      const run = await action('package,deploy,run');
      expect(run.status, run.log).toBe(0);
      expect(run.log).toContain('::warning::injected by the run');
      // The action's own commands (masks, groups, debug lines) are obeyed; the run's are not.
      expect(obeyedCommands(run.log).filter((command) => /injected|##\[/.test(command))).toEqual([]);
      expect(shownForms(run.log), run.log).toEqual([]);
      expect(shownForms(JSON.stringify(run.outputs))).toEqual([]);
      expect(shownForms(run.summary)).toEqual([]);
    });
  });

  describe('the CLI', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      // A Prefect stand-in that echoes the caller's API key back, with terminal sequences.
      server = createServer((req, res) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: `bad request for ${(req.headers.authorization ?? '').replace(/^Bearer /, '')} \u001b[2J\u001b[31mred` }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    });
    afterAll(() => server.close());

    it('plan and plan --json: no form of the secret on stdout or stderr; the team name as it is', async () => {
      const dir = project();
      for (const args of [['plan', '-c', 'lolpop.yaml'], ['plan', '-c', 'lolpop.yaml', '--json']]) {
        const run = await runBundledCli(args, dir, SECRET_ENV);
        expect(run.code, run.stderr).toBe(0);
        expect(shownForms(run.stdout), run.stdout).toEqual([]);
        expect(shownForms(run.stderr), run.stderr).toEqual([]);
        expect(run.stdout).toMatch(/"team\\?":\\?"vision\\?"/);
      }
    });

    it('up: the run printing the secret and terminal sequences reaches the terminal without either', async () => {
      const run = await runBundledCli(['up', '-c', 'lolpop.yaml'], project(), SECRET_ENV);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain("the key is '***'");
      expect(run.stderr).toContain('red');
      expect(shownForms(run.stdout + run.stderr)).toEqual([]);
      expect(run.stdout + run.stderr).not.toMatch(CONTROL);
    });

    it('a server-echoed API key is not in stdout, --json or the error: line', async () => {
      const dir = project();
      writeFileSync(path.join(dir, 'lolpop.yaml'), CONFIG.replace('orchestrator:\n', 'decorator: {orchestrator: PrefectOrchestrator}\norchestrator:\n').replace('    run:\n', '    deploy: {work_pool: pool}\n    run:\n'));
      for (const args of [['plan', '-c', 'lolpop.yaml'], ['plan', '-c', 'lolpop.yaml', '--json']]) {
        const run = await runBundledCli(args, dir, { ...SECRET_ENV, PREFECT_API_URL: url, PREFECT_API_KEY: API_KEY });
        expect(run.code).toBe(1);
        expect(run.stdout + run.stderr).toContain('bad request for ***');
        expect(run.stdout + run.stderr).not.toContain(API_KEY);
        expect(run.stdout + run.stderr).not.toMatch(CONTROL);
      }
    });
  });
});
