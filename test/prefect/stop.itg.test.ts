import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ciContext, gitRepository, service, tempDir } from '../helpers/services.js';
import { prefectApi, runConfig } from '../helpers/pipeline.js';

/** The real servers, each with a process pool and a worker of its own Prefect version. */
const servers = [
  { major: 3, apiUrl: service('LOLPOP_TEST_PREFECT_URL'), pool: service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process' },
  { major: 2, apiUrl: service('LOLPOP_TEST_PREFECT2_URL'), pool: service('LOLPOP_TEST_PROCESS_POOL_2') ?? 'ci-process-2' },
];

const FLOWS = `
import time
from prefect import flow

@flow(log_prints=True)
def hello(name: str = "world"):
    print(f"hello, {name}!")

@flow
def sleepy(seconds: int = 600):
    time.sleep(seconds)
`;

interface DeploymentRecord {
  id: string;
  paused: boolean;
}
interface FlowRunRecord {
  id: string;
  state: { type: string; name: string };
}

describe.each(servers)('stop of a work-pool deployment, against a real Prefect $major.x server and process worker', ({ apiUrl, pool }) => {
  describe.skipIf(!apiUrl)('pause, delete, cancel', () => {
    const uid = randomUUID().slice(0, 6);
    const repository = `acme/stop-${uid}`;
    // A pool no worker polls: its runs stay SCHEDULED, as on a pool whose workers are down.
    const idlePool = `idle-${uid}`;
    let root: string;
    let sha: string;

    beforeAll(async () => {
      root = tempDir('gh');
      sha = gitRepository(root, repository, { 'flows.py': FLOWS });
      await prefectApi(apiUrl!, 'POST', 'work_pools/', { name: idlePool, type: 'process', base_job_template: {} });
    });

    const ci = () => ciContext({ serverUrl: `file://${root}`, repository, sha, shortSha: sha.slice(0, 7), runId: randomUUID() });

    function config(name: string, options: { flow?: string; workPool?: string; stop?: string; wait?: boolean } = {}): string {
      return `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${apiUrl}"}
  deployment:
    name: ${name}
    deploy:
      work_pool: ${options.workPool ?? pool}
      flow_entrypoint: flows.py:${options.flow ?? 'hello'}
    run:
      wait: ${options.wait ?? false}
      wait_timeout: 120s
      poll_interval: 1s
    stop: ${options.stop ?? '{}'}
`;
    }

    async function steps(name: string, which: string, options: Parameters<typeof config>[1] = {}) {
      const out = await runConfig({ dir: tempDir('cfg'), yaml: config(name, options), env: {}, ci: ci(), steps: which });
      expect(out.result.error, out.logger.lines.join('\n')).toBeUndefined();
      return out;
    }

    const readDeployment = (id: string) => prefectApi<DeploymentRecord>(apiUrl!, 'GET', `deployments/${id}`);
    const readRun = (id: string) => prefectApi<FlowRunRecord>(apiUrl!, 'GET', `flow_runs/${id}`);

    it('pauses by default (steps: stop alone), and a later run resumes it and completes', async () => {
      const name = `stop-pause-${uid}`;
      const deployed = await steps(name, 'deploy');
      const id = deployed.result.deployment!.id;

      const stopped = await steps(name, 'stop');
      expect(stopped.result.steps.map((s) => [s.step, s.status])).toEqual([['stop', 'success']]);
      expect(stopped.result.stopped).toEqual({ stopped: true, detail: `paused deployment hello/${name}` });
      expect((await readDeployment(id)).paused).toBe(true);

      const ran = await steps(name, 'run', { wait: true });
      expect(ran.logger.lines).toContain(`info: Deployment hello/${name} was paused (by stop, or by its serving process shutting down): resumed`);
      expect(ran.result.run!.state).toBe('COMPLETED');
      expect((await readDeployment(id)).paused).toBe(false);
    });

    it('a deploy after a stop resumes the deployment (it sends paused: false)', async () => {
      const name = `stop-redeploy-${uid}`;
      const first = await steps(name, 'deploy');
      await steps(name, 'stop');
      expect((await readDeployment(first.result.deployment!.id)).paused).toBe(true);
      const second = await steps(name, 'deploy');
      expect(second.result.deployment!.id).toBe(first.result.deployment!.id);
      expect((await readDeployment(first.result.deployment!.id)).paused).toBe(false);
    });

    it('mode delete deletes it; stopping what is already gone succeeds with a notice', async () => {
      const name = `stop-delete-${uid}`;
      const deployed = await steps(name, 'deploy');
      const stopped = await steps(name, 'stop', { stop: '{mode: delete}' });
      expect(stopped.result.stopped).toEqual({ stopped: true, detail: `deleted deployment hello/${name}` });
      const gone = await fetch(`${apiUrl}/deployments/${deployed.result.deployment!.id}`);
      expect(gone.status).toBe(404);

      const again = await steps(name, 'stop', { stop: '{mode: delete}' });
      expect(again.result.steps).toMatchObject([{ step: 'stop', status: 'success' }]);
      expect(again.result.stopped).toEqual({ stopped: false, detail: `no deployment hello/${name} on ${apiUrl}: nothing to stop` });
      expect(again.logger.lines).toContain(`warning: no deployment hello/${name} on ${apiUrl}: nothing to stop`);
    });

    it('cancel_runs cancels a scheduled run no worker picked up (REJECT with CANCELLED is success)', async () => {
      const name = `stop-scheduled-${uid}`;
      const deployed = await steps(name, 'deploy,run', { workPool: idlePool });
      const runId = deployed.result.run!.id;
      expect(deployed.result.run!.state).toBe('SCHEDULED');

      const stopped = await steps(name, 'stop', { workPool: idlePool, stop: '{cancel_runs: true}' });
      expect(stopped.result.stopped!.detail).toBe(`cancelled 1 of 1 flow run(s); paused deployment hello/${name}`);
      expect((await readRun(runId)).state.type).toBe('CANCELLED');

      // Nothing left in flight: a second stop cancels nothing and still succeeds.
      const again = await steps(name, 'stop', { workPool: idlePool, stop: '{cancel_runs: true}' });
      expect(again.result.stopped!.detail).toBe(`no flow run to cancel; paused deployment hello/${name} (it already was)`);
    });

    it('cancel_runs cancels a running run: CANCELLING, then the worker ends it as CANCELLED', async () => {
      const name = `stop-running-${uid}`;
      const deployed = await steps(name, 'deploy,run', { flow: 'sleepy' });
      const runId = deployed.result.run!.id;
      await expect.poll(async () => (await readRun(runId)).state.type, { timeout: 90_000, interval: 500 }).toBe('RUNNING');

      const stopped = await steps(name, 'stop', { flow: 'sleepy', stop: '{cancel_runs: true, cancel_timeout: 90s}' });
      expect(stopped.result.stopped!.detail).toBe(`cancelled 1 of 1 flow run(s); paused deployment sleepy/${name}`);
      expect(stopped.logger.lines).toContain('info: waiting for 1 running flow run(s) to be cancelled');
      expect((await readRun(runId)).state.type).toBe('CANCELLED');
    });

    it('delete with cancel_runs waits for the running run to be cancelled before deleting', async () => {
      const name = `stop-running-del-${uid}`;
      const deployed = await steps(name, 'deploy,run', { flow: 'sleepy' });
      const runId = deployed.result.run!.id;
      await expect.poll(async () => (await readRun(runId)).state.type, { timeout: 90_000, interval: 500 }).toBe('RUNNING');

      const stopped = await steps(name, 'stop', { flow: 'sleepy', stop: '{cancel_runs: true, mode: delete, cancel_timeout: 90s}' });
      expect(stopped.result.stopped!.detail).toBe(`cancelled 1 of 1 flow run(s); deleted deployment sleepy/${name}`);
      // The worker ended the process before the deployment went (Prefect keeps a finished run).
      expect((await readRun(runId)).state.type).toBe('CANCELLED');
      expect((await fetch(`${apiUrl}/deployments/${deployed.result.deployment!.id}`)).status).toBe(404);
    });
  });
});
