import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, runBundledAction, type ActionRun } from '../helpers/run-action.js';
import { FLOWS_PY, gitRepository, service, tempDir } from '../helpers/services.js';

const node24 = service('LOLPOP_TEST_NODE24');
const apiUrl = service('LOLPOP_TEST_PREFECT_URL');
const authUrl = service('LOLPOP_TEST_PREFECT_AUTH_URL');
const pool = service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process';

/** The bundled action with the comment off: these tests are about Prefect, not GitHub's API. */
function runAction(dir: string, inputs: Record<string, string>, env: Record<string, string>): Promise<ActionRun> {
  return runBundledAction({ node: node24!, cwd: dir, inputs: { comment: 'never', ...inputs }, env });
}

const CONFIG = `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  deployment:
    name: e2e
    deploy:
      work_pool: ${pool}
      flow_entrypoint: flows/flows.py:hello
    run:
      poll_interval: 1s
`;

describe.skipIf(!node24 || !apiUrl)('the bundled action under Node 24, as the runner runs it', () => {
  let root: string;
  let sha: string;
  const repository = `acme/e2e-${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    root = tempDir('gh');
    sha = gitRepository(root, repository, { 'flows/flows.py': FLOWS_PY });
  });

  function github(dir: string, runId: string): Record<string, string> {
    const eventPath = path.join(dir, 'event.json');
    writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { full_name: repository } }));
    return {
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_SHA: sha,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REF_NAME: 'main',
      GITHUB_REPOSITORY: repository,
      GITHUB_SERVER_URL: `file://${root}`,
      GITHUB_RUN_ID: runId,
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_RUN_NUMBER: '7',
    };
  }

  it('deploys, runs, waits, and writes outputs and the job summary', async () => {
    const dir = tempDir('e2e');
    writeFileSync(path.join(dir, 'lolpop.yaml'), CONFIG);
    const name = `e2e-${randomUUID().slice(0, 6)}`;
    const run = await runAction(
      dir,
      { steps: 'deploy,run', 'deployment-name': name, wait: 'true', 'wait-timeout': '150s', 'run-kwargs': '{"name":"e2e"}' },
      { ...github(dir, randomUUID()), PREFECT_API_URL: apiUrl! },
    );
    expect(run.status, run.log).toBe(0);
    expect(run.log).toContain('::group::deploy');
    expect(run.outputs).toMatchObject({
      'deployment-name': `hello/${name}`,
      'flow-run-state': 'COMPLETED',
    });
    expect(run.outputs['flow-run-url']).toBe(`${apiUrl!.replace(/\/api$/, '')}/runs/flow-run/${run.outputs['flow-run-id']}`);
    expect(run.outputs['deployment-url']).toBe(`${apiUrl!.replace(/\/api$/, '')}/deployments/deployment/${run.outputs['deployment-id']}`);
    // The generic outputs, with the flow-run-* names as aliases.
    expect([run.outputs['run-id'], run.outputs['run-url'], run.outputs['run-state']]).toEqual([
      run.outputs['flow-run-id'],
      run.outputs['flow-run-url'],
      run.outputs['flow-run-state'],
    ]);
    expect(run.summary).toContain(`### ✅ lolpop-deploy: ${name}`);
    expect(run.summary).toContain('| wait | ✅ success |');
    expect(run.summary).toContain(`[${run.outputs['flow-run-id']}](${run.outputs['flow-run-url']})`);
    expect(run.summary).toContain('**COMPLETED**');
  });

  it('a bad config fails the step in one line, with a summary, and nothing deployed', async () => {
    const dir = tempDir('e2e');
    writeFileSync(path.join(dir, 'lolpop.yaml'), CONFIG.replace('work_pool:', 'work_pol:'));
    const run = await runAction(dir, {}, { ...github(dir, randomUUID()), PREFECT_API_URL: apiUrl! });
    expect(run.status).toBe(1);
    // An annotation on the file, line and column, so GitHub shows it in the PR's diff.
    const errors = run.log.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors).toEqual([
      '::error title=lolpop-deploy config,file=lolpop.yaml,line=8,col=7::lolpop.yaml:8:7: orchestrator.deployment.deploy.work_pol: unknown key; did you mean work_pool?',
    ]);
    expect(run.summary).toContain('**Error:** lolpop.yaml:8:7');
    expect(run.outputs['deployment-id']).toBeUndefined();
  });

  it.skipIf(!authUrl)('a wrong key fails in one line, and no secret reaches the log, outputs or summary', async () => {
    const dir = tempDir('e2e');
    const secret = `pnu_${randomUUID()}`;
    writeFileSync(path.join(dir, 'lolpop.yaml'), CONFIG);
    const run = await runAction(dir, {}, { ...github(dir, randomUUID()), PREFECT_API_URL: authUrl!, PREFECT_API_KEY: secret });
    expect(run.status).toBe(1);
    expect(run.log.split('\n').filter((l) => l.startsWith('::error::'))).toEqual([
      `::error::Failed to read the work pool 'ci-process': the Prefect API at ${authUrl} refused the credentials (401: Unauthorized); check PREFECT_API_KEY (Cloud) or PREFECT_API_AUTH_STRING (self-hosted)`,
    ]);
    // The runner masks a value only after ::add-mask:: — the key may appear there and nowhere else.
    const lines = run.log.split('\n').filter((l) => l.includes(secret));
    expect(lines).toEqual([`::add-mask::${secret}`]);
    expect(JSON.stringify(run.outputs)).not.toContain(secret);
    expect(run.summary).not.toContain(secret);
    expect(run.summary).toContain('❌');
  });
});
