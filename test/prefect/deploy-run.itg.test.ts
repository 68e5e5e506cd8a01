import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ciContext, FLOWS_PY, gitRepository, service, tempDir } from '../helpers/services.js';
import { prefectApi, runConfig } from '../helpers/pipeline.js';

/** The real servers, each with a process pool and a worker of its own Prefect version. */
const servers = [
  { major: 3, apiUrl: service('LOLPOP_TEST_PREFECT_URL'), pool: service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process', runPath: 'runs/flow-run' },
  { major: 2, apiUrl: service('LOLPOP_TEST_PREFECT2_URL'), pool: service('LOLPOP_TEST_PROCESS_POOL_2') ?? 'ci-process-2', runPath: 'flow-runs/flow-run' },
];

describe.each(servers)('PrefectOrchestrator against a real Prefect $major.x server and process worker', ({ major, apiUrl, pool, runPath }) => {
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

  describe.skipIf(!apiUrl)('deploy, run, wait', () => {
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
      const repo = `file://${root}/${repository}.git`;
      expect(deployment).toMatchObject({
        name: `ci-hello-${uid}`,
        work_pool_name: pool,
        entrypoint: 'flows/flows.py:hello',
        tags: ['ci'],
        version: sha.slice(0, 7),
        // Prefect 2's git_clone has no commit_sha: the commit is fetched and checked out after the clone.
        pull_steps:
          major >= 3
            ? [{ 'prefect.deployments.steps.git_clone': { repository: repo, commit_sha: sha } }]
            : [
                { 'prefect.deployments.steps.git_clone': { id: 'clone', repository: repo } },
                {
                  'prefect.deployments.steps.run_shell_script': {
                    directory: '{{ clone.directory }}',
                    script: `git fetch --quiet --depth 1 origin ${sha}\ngit checkout --quiet ${sha}`,
                  },
                },
              ],
      });
      expect(result.deployment!.name).toBe(`hello/ci-hello-${uid}`);
      expect(result.run!.state).toBe('COMPLETED');
      expect(result.run!.url).toBe(`${apiUrl!.replace(/\/api$/, '')}/${runPath}/${result.run!.id}`);
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

    it('plan reads the server, changes nothing, and shows the body deploy then sends', async () => {
      const name = `ci-plan-${uid}`;
      const dir = tempDir('cfg');
      const yaml = config(name, 'flows/flows.py:hello');
      const runCi = ci(randomUUID());
      const planned = await runConfig({ dir, yaml, env, ci: runCi, steps: 'plan,deploy,run' });
      expect(planned.result.error, planned.logger.lines.join('\n')).toBeUndefined();
      const plan = planned.result.plan!;
      expect(plan.actions[0]).toMatch(new RegExp(`^read Prefect ${major}\\.\\d+\\.\\d+ at ${apiUrl}$`));
      // A process pool: no image, no Dockerfile.
      expect(plan.image).toBeUndefined();
      expect(plan.actions).toContain(`create or update deployment hello/${name} on work pool ${pool} [process]`);
      expect(readdirSync(dir)).toEqual(['lolpop.yaml']);
      await expect(prefectApi(apiUrl!, 'GET', `deployments/name/hello/${name}`)).rejects.toThrow(/404/);

      const deployed = await runConfig({ dir, yaml, env, ci: runCi, steps: 'deploy' });
      expect(deployed.result.error).toBeUndefined();
      const deployment = await prefectApi<Record<string, unknown>>(apiUrl!, 'GET', `deployments/${deployed.result.deployment!.id}`);
      const body = plan.requests.find((r) => r.url === `${apiUrl}/deployments/`)!.body as Record<string, unknown>;
      for (const key of ['name', 'entrypoint', 'work_pool_name', 'pull_steps', 'parameters', 'tags', 'version']) {
        expect(deployment[key], key).toEqual(body[key]);
      }
    });

    it('plan fails as deploy would when the work pool is missing', async () => {
      const yaml = config(`ci-plan-nopool-${uid}`, 'flows/flows.py:hello').replace(`work_pool: ${pool}`, 'work_pool: no-such-pool');
      const { result } = await runConfig({ dir: tempDir('cfg'), yaml, env, ci: ci(randomUUID()), steps: 'plan,deploy' });
      expect(result.error?.message).toBe(
        `Plan: work pool 'no-such-pool' does not exist on ${apiUrl}, so deploy would fail; create it (prefect work-pool create no-such-pool --type process) or fix deploy.work_pool`,
      );
    });

    it("lolpop's deployment_kwargs reach the deployment: tags, description, a schedule, paused", async () => {
      const yaml = config(`ci-kwargs-${uid}`, 'flows/flows.py:hello').replace(
        '      tags: [ci]\n',
        '      deployment_kwargs: {tags: [ml, nightly], description: trained nightly, cron: "0 3 * * *", timezone: UTC, paused: true}\n',
      );
      const { result, logger } = await runConfig({ dir: tempDir('cfg'), yaml, env, ci: ci(randomUUID()), steps: 'deploy' });
      expect(result.error, logger.lines.join('\n')).toBeUndefined();
      const deployment = await prefectApi<Record<string, unknown> & { schedules: Array<{ schedule: Record<string, unknown>; active: boolean }> }>(
        apiUrl!,
        'GET',
        `deployments/${result.deployment!.id}`,
      );
      expect(deployment).toMatchObject({ tags: ['ml', 'nightly'], description: 'trained nightly', paused: true });
      expect(deployment.schedules).toHaveLength(1);
      expect(deployment.schedules[0]!.schedule).toMatchObject({ cron: '0 3 * * *', timezone: 'UTC' });
    });
  });
});
