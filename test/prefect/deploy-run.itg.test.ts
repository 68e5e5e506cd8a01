import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ciContext, FLOWS_PY, gitRepository, service, tempDir } from '../helpers/services.js';
import { prefectApi, runConfig } from '../helpers/pipeline.js';

const apiUrl = service('LOLPOP_TEST_PREFECT_URL');
const pool = service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process';

/** A config for a plain flow on the real process pool; the worker clones the repo. */
function config(name: string, entrypoint: string, parameters = '{name: CI}'): string {
  return `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${apiUrl}"}
  deployment:
    name: ${name}
    deploy:
      work_pool: ${pool}
      flow_entrypoint: ${entrypoint}
      tags: [ci]
    run:
      parameters: ${parameters}
      wait: true
      wait_timeout: 120s
      poll_interval: 1s
`;
}

describe.skipIf(!apiUrl)('PrefectOrchestrator against a real Prefect server and process worker', () => {
  let root: string;
  let sha: string;
  const repository = `acme/flows-${randomUUID().slice(0, 8)}`;
  const env = {} as NodeJS.ProcessEnv;
  // Deployments live on across runs of the suite on one server: name them per run.
  const uid = randomUUID().slice(0, 6);

  beforeAll(() => {
    root = tempDir('gh');
    sha = gitRepository(root, repository, { 'flows/flows.py': FLOWS_PY });
  });

  const ci = (runId: string) =>
    ciContext({ serverUrl: `file://${root}`, repository, sha, shortSha: sha.slice(0, 7), runId, runAttempt: '1' });

  it('deploys with the expected fields, runs and reaches COMPLETED with wait', async () => {
    const { result, logger } = await runConfig({ dir: tempDir('cfg'), yaml: config(`ci-hello-${uid}`, 'flows/flows.py:hello'), env, ci: ci(randomUUID()) });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.steps.map((s) => [s.step, s.status])).toEqual([
      ['deploy', 'success'],
      ['run', 'success'],
      ['wait', 'success'],
    ]);
    const deployment = await prefectApi<Record<string, unknown>>(apiUrl!, 'GET', `deployments/${result.deployment!.id}`);
    expect(deployment).toMatchObject({
      name: `ci-hello-${uid}`,
      work_pool_name: pool,
      entrypoint: 'flows/flows.py:hello',
      tags: ['ci'],
      version: sha.slice(0, 7),
      pull_steps: [{ 'prefect.deployments.steps.git_clone': { repository: `file://${root}/${repository}.git`, commit_sha: sha } }],
    });
    expect(result.deployment!.name).toBe(`hello/ci-hello-${uid}`);
    expect(result.run!.state).toBe('COMPLETED');
    expect(result.run!.url).toBe(`${apiUrl!.replace(/\/api$/, '')}/runs/flow-run/${result.run!.id}`);
    // The parameter reached the flow: its print is in the run's logs (shipped in batches, so poll).
    await expect
      .poll(
        async () =>
          (
            await prefectApi<Array<{ message: string }>>(apiUrl!, 'POST', 'logs/filter', {
              logs: { flow_run_id: { any_: [result.run!.id] } },
              limit: 200,
            })
          ).map((l) => l.message),
        { timeout: 15_000, interval: 500 },
      )
      .toContain('hello, CI!');
  });

  it('a flow that raises ends FAILED and the pipeline fails saying so', async () => {
    const { result } = await runConfig({ dir: tempDir('cfg'), yaml: config(`ci-boom-${uid}`, 'flows/flows.py:boom', '{}'), env, ci: ci(randomUUID()) });
    expect(result.run?.state).toBe('FAILED');
    expect(result.steps.at(-1)).toMatchObject({ step: 'wait', status: 'failed' });
    expect(result.error?.message).toMatch(/^Flow run \S+ ended FAILED: .*the model diverged/);
    expect(result.error?.message).toContain(result.run!.url);
  });

  it('the same workflow attempt run twice yields one flow run', async () => {
    const runId = randomUUID();
    const yaml = config(`ci-idem-${uid}`, 'flows/flows.py:hello').replace('wait: true', 'wait: false');
    const first = await runConfig({ dir: tempDir('cfg'), yaml, env, ci: ci(runId) });
    const second = await runConfig({ dir: tempDir('cfg'), yaml, env, ci: ci(runId), steps: 'run' });
    expect(first.result.error).toBeUndefined();
    expect(second.result.error).toBeUndefined();
    expect(first.result.run!.created).toBe(true);
    expect(second.result.run!.created).toBe(false);
    expect(second.result.run!.id).toBe(first.result.run!.id);
    const runs = await prefectApi<unknown[]>(apiUrl!, 'POST', 'flow_runs/filter', {
      flow_runs: { deployment_id: { any_: [first.result.deployment!.id] } },
    });
    expect(runs).toHaveLength(1);
    // A re-run (next attempt) is a new flow run.
    const rerun = await runConfig({ dir: tempDir('cfg'), yaml, env, ci: { ...ci(runId), runAttempt: '2' }, steps: 'run' });
    expect(rerun.result.run!.id).not.toBe(first.result.run!.id);
  });

  it('a missing work pool ends in one clear message, before anything is registered', async () => {
    const yaml = config(`ci-nopool-${uid}`, 'flows/flows.py:hello').replace(`work_pool: ${pool}`, 'work_pool: no-such-pool');
    const { result } = await runConfig({ dir: tempDir('cfg'), yaml, env, ci: ci(randomUUID()) });
    expect(result.error?.message).toBe(
      `Failed to deploy: work pool 'no-such-pool' does not exist on ${apiUrl}; create it (prefect work-pool create no-such-pool --type process) or fix deploy.work_pool`,
    );
    expect(result.steps.map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped']);
  });

  it('an unreachable server ends in one clear message', async () => {
    const yaml = config(`ci-down-${uid}`, 'flows/flows.py:hello').replace(apiUrl!, 'http://127.0.0.1:4299/api');
    const { result } = await runConfig({ dir: tempDir('cfg'), yaml, env, ci: ci(randomUUID()) });
    expect(result.error?.message).toBe(
      'Failed to read the server version: cannot reach the Prefect API at http://127.0.0.1:4299/api (ECONNREFUSED)',
    );
  });
});
