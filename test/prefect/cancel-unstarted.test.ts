import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Exec } from '../../src/exec.js';
import type { KubeApi } from '../../src/kubernetes/client.js';
import type { Pod } from '../../src/kubernetes/rollout.js';
import { MemoryLogger } from '../../src/logger.js';
import type { CancelAnswer, FlowRun, PrefectApi } from '../../src/orchestrators/prefect/api.js';
import { cancelFlowRuns } from '../../src/orchestrators/prefect/cancel-runs.js';
import { PrefectConfig } from '../../src/orchestrators/prefect/config.js';
import { deleteUnstartedJob } from '../../src/orchestrators/prefect/kubernetes/flow-run-pods.js';
import { PrefectOrchestrator } from '../../src/orchestrators/prefect/orchestrator.js';
import { ciContext, tempDir } from '../helpers/services.js';

const JOB_PATH = '/apis/batch/v1/namespaces/lolpop-pool2/jobs/economic-dodo-8hvt8';

/** A Job with one pod in `status` (until it is deleted); records what was deleted. */
function cluster(status: Pod['status'], log = '', runLabel = 'r1'): KubeApi & { deleted: string[]; preconditions: (string | undefined)[] } {
  const deleted: string[] = [];
  const preconditions: (string | undefined)[] = [];
  const pod: Pod = { metadata: { name: 'economic-dodo-8hvt8-nxgfc', namespace: 'lolpop-pool2' }, status };
  const jobObject = { metadata: { name: 'economic-dodo-8hvt8', uid: 'job-uid-1', labels: { 'prefect.io/flow-run-id': runLabel } } };
  return {
    deleted,
    preconditions,
    apply: async (o) => o,
    mergePatch: async () => true,
    async delete(p: string, uid?: string) {
      deleted.push(p);
      preconditions.push(uid);
      return true;
    },
    get: async <T>(p: string) => (deleted.length ? (p === JOB_PATH ? undefined : { items: [] }) : p === JOB_PATH ? jobObject : { items: [pod] }) as T,
    text: async () => log,
  };
}

const job = { namespace: 'lolpop-pool2', job: 'economic-dodo-8hvt8' };

describe('the Job of a cancelled run whose pod never started the flow', () => {
  it('an image that cannot be pulled (as the CI cluster showed it): the Job is deleted, and said why', async () => {
    const api = cluster({
      phase: 'Pending',
      containerStatuses: [{ name: 'prefect-job', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "127.0.0.1:5000/x:does-not-exist"' } } }],
    });
    expect(await deleteUnstartedJob(api, job, 'r1')).toBe(
      'deleted Job lolpop-pool2/economic-dodo-8hvt8: its pod never started the flow (pod economic-dodo-8hvt8-nxgfc, container prefect-job: ImagePullBackOff: Back-off pulling image "127.0.0.1:5000/x:does-not-exist")',
    );
    expect(api.deleted).toEqual([JOB_PATH]);
    expect(api.preconditions).toEqual(['job-uid-1']);
  });

  it('a Job of that name the worker did not label with this run (another cluster, another run): left alone', async () => {
    const api = cluster(
      { phase: 'Pending', containerStatuses: [{ name: 'prefect-job', state: { waiting: { reason: 'ImagePullBackOff' } } }] },
      '',
      'another-run',
    );
    expect(await deleteUnstartedJob(api, job, 'r1')).toBeUndefined();
    expect(api.deleted).toEqual([]);
  });

  it('a container that exited before the flow: its reason and exit code, not its log lines', async () => {
    const api = cluster({ phase: 'Failed', containerStatuses: [{ name: 'prefect-job', state: { terminated: { reason: 'Error', exitCode: 1 } } }] }, 'no flow here\n');
    expect(await deleteUnstartedJob(api, job, 'r1')).toBe(
      'deleted Job lolpop-pool2/economic-dodo-8hvt8: its pod never started the flow (pod economic-dodo-8hvt8-nxgfc, container prefect-job: Error (exit code 1))',
    );
  });

  it('a pod that is running, or still pulling, is left to the Prefect runner it starts: nothing deleted', async () => {
    for (const state of [{ running: {} }, { waiting: { reason: 'ContainerCreating' } }]) {
      const api = cluster({ phase: 'Pending', containerStatuses: [{ name: 'prefect-job', state }] });
      expect(await deleteUnstartedJob(api, job, 'r1')).toBeUndefined();
      expect(api.deleted).toEqual([]);
    }
  });
});

describe('stop cancel_runs: a CANCELLING run nothing else will end', () => {
  const cancelling = (extra: Partial<FlowRun> = {}): FlowRun => ({
    id: 'r1',
    name: 'economic-dodo',
    state: { type: 'CANCELLING', name: 'Cancelling' },
    infrastructure_pid: `uid:${job.namespace}:${job.job}`,
    work_pool_name: 'lolpop-k8s2',
    start_time: null,
    ...extra,
  });
  /** A server where the run stays CANCELLING until marked; `answer` is its reply to CANCELLED. */
  function server(run: FlowRun, answer: CancelAnswer = { status: 'ACCEPT', state: 'CANCELLED' }) {
    const marked: string[] = [];
    const api = {
      cancelFlowRun: async () => ({ status: 'ACCEPT', state: 'CANCELLING' }),
      readFlowRun: async () => run,
      async markCancelled(id: string, message: string) {
        marked.push(`${id}: ${message}`);
        return answer;
      },
    } as unknown as PrefectApi;
    return { api, marked };
  }
  const deleted = 'deleted Job lolpop-pool2/economic-dodo-8hvt8: its pod never started the flow (…)';

  it('its infrastructure removed, it is marked CANCELLED with why, and counted cancelled', async () => {
    const { api, marked } = server(cancelling());
    const logger = new MemoryLogger();
    const offered: string[] = [];
    const summary = await cancelFlowRuns(api, [cancelling({ state: { type: 'PENDING', name: 'Pending' } })], Date.now(), Date.now() + 5000, {
      logger,
      timeoutMs: 5000,
      pollMs: 1,
      endUnstarted: async (run) => (offered.push(run.id), deleted),
    });
    expect(summary).toEqual({ found: 1, cancelled: 1, finished: 0, cancelling: 0 });
    expect(offered).toEqual(['r1']);
    expect(marked).toEqual([`r1: Cancelled by lolpop-deploy: ${deleted}`]);
    expect(logger.lines).toContain(`info: flow run economic-dodo CANCELLED: ${deleted}`);
  });

  it('a run whose flow began (start_time) is never offered: the runner in its pod ends it', async () => {
    const { api, marked } = server(cancelling({ start_time: '2026-12-07T15:27:10Z' }));
    const offered: string[] = [];
    const summary = await cancelFlowRuns(api, [cancelling()], Date.now(), Date.now() + 50, {
      logger: new MemoryLogger(),
      timeoutMs: 50,
      pollMs: 5,
      endUnstarted: async (run) => (offered.push(run.id), deleted),
    });
    expect(offered).toEqual([]);
    expect(marked).toEqual([]);
    expect(summary.cancelling).toBe(1);
  });

  it('nothing removed: left to its worker, and still CANCELLING at the timeout', async () => {
    const { api, marked } = server(cancelling());
    const summary = await cancelFlowRuns(api, [cancelling()], Date.now(), Date.now() + 50, { logger: new MemoryLogger(), timeoutMs: 50, pollMs: 5, endUnstarted: async () => undefined });
    expect(marked).toEqual([]);
    expect(summary).toEqual({ found: 1, cancelled: 0, finished: 0, cancelling: 1 });
  });

  it('the server refuses CANCELLED: said with its answer, and not counted cancelled', async () => {
    const { api } = server(cancelling(), { status: 'REJECT', state: 'CANCELLING', reason: 'no' });
    const logger = new MemoryLogger();
    let calls = 0;
    const summary = await cancelFlowRuns(api, [cancelling()], Date.now(), Date.now() + 50, {
      logger,
      timeoutMs: 50,
      pollMs: 5,
      // As deleteUnstartedJob: once the Job is gone there is nothing to delete.
      endUnstarted: async () => (calls++ === 0 ? deleted : undefined),
    });
    expect(summary).toEqual({ found: 1, cancelled: 0, finished: 0, cancelling: 1 });
    expect(logger.lines).toContain(`warning: flow run economic-dodo: ${deleted}, but the server answered REJECT → CANCELLING to CANCELLED (no)`);
  });
});

describe('stop cancel_runs: the Job deleted, then the server fails', () => {
  it('the deleted Job is said in a warning with the server\'s error, and the run is left CANCELLING', async () => {
    const run: FlowRun = { id: 'r1', name: 'economic-dodo', state: { type: 'CANCELLING', name: 'Cancelling' }, start_time: null } as FlowRun;
    const api = {
      cancelFlowRun: async () => ({ status: 'ACCEPT', state: 'CANCELLING' }),
      readFlowRun: async () => run,
      markCancelled: async () => {
        throw new Error('Prefect answered 503 to POST /flow_runs/r1/set_state');
      },
    } as unknown as PrefectApi;
    const logger = new MemoryLogger();
    let calls = 0;
    const deleted = 'deleted Job lolpop-pool2/economic-dodo-8hvt8: its pod never started the flow (…)';
    const summary = await cancelFlowRuns(api, [run], Date.now(), Date.now() + 50, {
      logger,
      timeoutMs: 50,
      pollMs: 5,
      endUnstarted: async () => (calls++ === 0 ? deleted : undefined),
    });
    expect(summary).toEqual({ found: 1, cancelled: 0, finished: 0, cancelling: 1 });
    expect(logger.lines).toContain(`warning: flow run economic-dodo: ${deleted}, but marking it CANCELLED failed: Prefect answered 503 to POST /flow_runs/r1/set_state`);
  });
});

describe('PrefectOrchestrator.cancel: a cluster that will not delete the Job', () => {
  it('is one warning naming the Job and the server\'s words, however many polls; the run is left CANCELLING', async () => {
    // A cluster on loopback: the Job's pod cannot pull its image, and deleting Jobs is forbidden.
    const deletes: string[] = [];
    const server = createServer((req, res) => {
      if (req.method === 'DELETE') {
        deletes.push(req.url!);
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', message: 'jobs.batch "economic-dodo-8hvt8" is forbidden: no RBAC for it' }));
        return;
      }
      if (req.url === JOB_PATH) {
        const labelled = { metadata: { name: job.job, uid: 'job-uid-1', labels: { 'prefect.io/flow-run-id': 'r1' } } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(labelled));
        return;
      }
      const pod = { metadata: { name: 'economic-dodo-8hvt8-nxgfc', namespace: job.namespace }, status: { phase: 'Pending', containerStatuses: [{ name: 'prefect-job', state: { waiting: { reason: 'ImagePullBackOff' } } }] } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [pod] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = tempDir('kubeconfig');
    const kubeconfig = path.join(dir, 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\ncurrent-context: ci\nclusters: [{name: ci, cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}"}}]\n` +
        'users: [{name: ci, user: {token: t0k3n}}]\ncontexts: [{name: ci, context: {cluster: ci, user: ci}}]\n',
    );
    const run = { id: 'r1', name: 'economic-dodo', infrastructure_pid: `uid:${job.namespace}:${job.job}`, work_pool_name: 'lolpop-k8s2', start_time: null };
    const prefect = (async (url: string | URL | Request, init?: RequestInit) => {
      const u = String(url);
      if (u.endsWith('/work_pools/lolpop-k8s2')) return Response.json({ name: 'lolpop-k8s2', type: 'kubernetes' });
      if (u.endsWith('/set_state')) return Response.json({ status: 'ACCEPT', state: { type: 'CANCELLING' } });
      if (u.endsWith('/flow_runs/r1') && (init?.method ?? 'GET') === 'GET') return Response.json({ ...run, state: { type: 'CANCELLING', name: 'Cancelling' } });
      return new Response('unexpected', { status: 500 });
    }) as typeof globalThis.fetch;
    const logger = new MemoryLogger();
    const orchestrator = new PrefectOrchestrator(PrefectConfig.parse({}), {
      logger,
      exec: (async () => {
        throw new Error('no process here');
      }) as unknown as Exec,
      fetch: prefect,
      env: { PREFECT_API_URL: 'http://p:4200/api', KUBECONFIG: kubeconfig },
      ci: ciContext(),
      workdir: dir,
      configFile: 'lolpop.yaml',
    });
    try {
      const result = await orchestrator.cancel({ run: { id: 'r1', url: 'http://ui/r1', state: 'PENDING', created: true }, timeoutMs: 1500 });
      expect(result.state).toBe('CANCELLING');
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(deletes).toEqual([JOB_PATH]);
    expect(logger.lines.filter((l) => l.startsWith('warning: flow run economic-dodo'))).toEqual([
      `warning: flow run economic-dodo: Job ${job.namespace}/${job.job} could not be checked or deleted (the run is left to its worker): ` +
        'Kubernetes DELETE /apis/batch/v1/namespaces/lolpop-pool2/jobs/economic-dodo-8hvt8 failed: jobs.batch "economic-dodo-8hvt8" is forbidden: no RBAC for it (HTTP 403)',
    ]);
    // cancel() polls for at least 10 s (its floor), once a second: the delete was tried once.
  }, 20_000);
});
