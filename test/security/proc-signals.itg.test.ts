import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { alive, until } from '../local/project.js';
import { BUNDLE, defaultInputs } from '../helpers/run-action.js';
import { CLI_BUNDLE } from '../helpers/run-cli.js';
import { service } from '../helpers/services.js';
import { dockerProject, fakeDocker, startNode } from './proc-helpers.js';

/** Node 24, as GitHub runs the action (LOLPOP_TEST_NODE24; under REQUIRE_SERVICES=1 a missing one fails, never skips). */
const NODE24 = service('LOLPOP_TEST_NODE24');

// A hostile `docker build`: ignores SIGTERM (and so does the `sleep` it starts), writes both pids.
const STUBBORN_BUILD = `trap '' TERM; sleep 600 & echo "$$ $!" > "$PWD/out/build.pids"; wait`;

function buildPids(dir: string): number[] {
  const file = path.join(dir, 'out/build.pids');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split(' ').map(Number) : [];
}

/** The runner's environment for the action: INPUT_* (action.yml's defaults under `inputs`), output and summary files. */
function actionEnv(dir: string, inputs: Record<string, string>): Record<string, string> {
  const files = mkdtempSync(path.join(tmpdir(), 'action-files-'));
  writeFileSync(path.join(files, 'output'), '');
  writeFileSync(path.join(files, 'summary'), '');
  writeFileSync(path.join(files, 'event.json'), JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: 'acme/qs' } }));
  const all = { ...defaultInputs(), ...inputs };
  return {
    ...Object.fromEntries(Object.entries(all).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])),
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: path.join(files, 'output'),
    GITHUB_STEP_SUMMARY: path.join(files, 'summary'),
    GITHUB_WORKSPACE: dir,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: path.join(files, 'event.json'),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REPOSITORY: 'acme/qs',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
  };
}

describe.skipIf(!NODE24)('proc: the bundled action and CLI under Node 24 stop the docker build they started', () => {
  beforeAll(() => {
    expect(existsSync(BUNDLE) && existsSync(CLI_BUNDLE), 'dist/ must be built (npm run bundle)').toBe(true);
  });

  const cases = [
    ['the action (dist/index.js)', BUNDLE, (dir: string) => ({ args: [], env: actionEnv(dir, { config: 'lolpop.yaml', steps: 'package', comment: 'never' }) })],
    ['the CLI (dist/cli/index.js)', CLI_BUNDLE, () => ({ args: ['package', 'QuickstartRunner', '-c', 'lolpop.yaml'], env: {} })],
  ] as const;

  for (const [what, script, options] of cases) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`${signal} to ${what} during \`docker build\`: the build and its child are gone, one line says so, it ends by the signal`, async () => {
        const dir = dockerProject();
        const { args, env } = options(dir);
        const step = startNode(NODE24!, script, args, dir, fakeDocker(STUBBORN_BUILD), env);
        expect(await until(() => buildPids(dir).length === 2, 30_000)).toBe(true);
        const pids = buildPids(dir);
        process.kill(step.pid, signal);
        expect(await step.exited).toEqual({ code: null, signal });
        // Gone, not merely signalled: a SIGKILLed process can take a moment to end on a loaded
        // machine (seen once in CI); a build left running would still be here after 5 s.
        await until(() => pids.filter(alive).length === 0, 5_000);
        expect(pids.filter(alive)).toEqual([]);
        expect(step.output()).toMatch(new RegExp(`lolpop-deploy: received ${signal}: stopped docker build \\(pid ${pids[0]}\\); exiting\\n`));
      }, 60_000);
    }
  }
});
