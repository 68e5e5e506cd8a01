import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciContext, FLOWS_PY, gitRepository, service, tempDir } from '../helpers/services.js';
import { runConfig } from '../helpers/pipeline.js';
import { FaultProxy } from '../helpers/fault-proxy.js';

const apiUrl = service('LOLPOP_TEST_PREFECT_URL');
const authUrl = service('LOLPOP_TEST_PREFECT_AUTH_URL');
const authString = service('LOLPOP_TEST_PREFECT_AUTH_STRING');

/**
 * How many requests a deploy and a run cost, counted by a FaultProxy that injects
 * nothing and logs every request it forwards to a real Prefect 3 server.
 */
describe('requests per step, counted at a proxy in front of a real Prefect 3 server', () => {
  const uid = randomUUID().slice(0, 6);
  const repository = `acme/requests-${uid}`;
  let root: string;
  let sha: string;

  beforeAll(() => {
    root = tempDir('gh');
    sha = gitRepository(root, repository, { 'flows/flows.py': FLOWS_PY });
  });

  const ci = () => ciContext({ serverUrl: `file://${root}`, repository, sha, shortSha: sha.slice(0, 7), runId: randomUUID(), runAttempt: '1' });

  /** A deployment on `pool` (no worker polls it: runs stay SCHEDULED), run without waiting. */
  const config = (url: string, name: string, pool: string) => `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${url}"}
  deployment:
    name: ${name}
    deploy:
      work_pool: ${pool}
      flow_entrypoint: flows/flows.py:hello
    run:
      parameters: {name: CI}
      wait: false
`;

  /**
   * The requests of one pipeline, and those that came after the deployment was written
   * (the run's). A request sent again at once is a retry of the same call (the shared
   * server, busy with the other suites' workers, sometimes answers a write 503: seen in
   * 3 of about 15 runs): it is counted once, and printed, since what is counted here is
   * the calls the client makes, not the server's transient refusals.
   */
  function split(log: Array<{ method: string; path: string }>): { all: string[]; run: string[] } {
    const sent = log.map((l) => `${l.method} ${l.path}`);
    const all = sent.filter((r, i) => r !== sent[i - 1]);
    if (all.length < sent.length) console.log(`retried at once, counted once: ${sent.filter((r, i) => r === sent[i - 1]).join(', ')}`);
    const upsert = all.lastIndexOf('POST /api/deployments/');
    return { all, run: upsert < 0 ? [] : all.slice(upsert + 1) };
  }

  describe.skipIf(!apiUrl)('a server without CSRF protection, a process pool', () => {
    let proxy: FaultProxy;
    const pool = `ci-requests-${uid}`;

    beforeAll(async () => {
      proxy = await new FaultProxy(apiUrl!).start();
      const created = await fetch(`${apiUrl}/work_pools/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: pool, type: 'process' }),
      });
      expect([201, 409]).toContain(created.status);
    });
    afterAll(async () => {
      await proxy?.close();
      await fetch(`${apiUrl}/work_pools/${pool}`, { method: 'DELETE' }).catch(() => undefined);
    });

    it('deploy takes at most 4 requests; a run after a deploy in the same process takes 1', async () => {
      proxy.reset();
      const deployOnly = await runConfig({ dir: tempDir('cfg'), yaml: config(proxy.url, `ci-req-${uid}`, pool), env: {}, ci: ci(), steps: 'deploy' });
      expect(deployOnly.result.error, deployOnly.logger.lines.join('\n')).toBeUndefined();
      const deploy = split(proxy.log).all;

      proxy.reset();
      const both = await runConfig({ dir: tempDir('cfg'), yaml: config(proxy.url, `ci-req-${uid}`, pool), env: {}, ci: ci() });
      expect(both.result.error, both.logger.lines.join('\n')).toBeUndefined();
      const { all, run } = split(proxy.log);
      console.log(`Prefect 3, no CSRF: deploy ${deploy.length} requests (${deploy.join(', ')}); deploy + run ${all.length}, of them the run ${run.length} (${run.join(', ')})`);

      expect(deploy.length).toBeLessThanOrEqual(4);
      expect([...deploy].sort()).toEqual(['GET /api/admin/version', `GET /api/work_pools/${pool}`, 'POST /api/deployments/', 'POST /api/flows/']);
      expect(run, all.join(", ")).toEqual([`POST /api/deployments/${both.result.deployment!.id}/create_flow_run`]);
      expect(all.length, all.join(", ")).toBeLessThanOrEqual(5);
      expect(all.filter((r) => r.includes('csrf'))).toEqual([]);

      // A run in a process of its own must find the deployment (the version is read meanwhile).
      proxy.reset();
      const alone = await runConfig({ dir: tempDir('cfg'), yaml: config(proxy.url, `ci-req-${uid}`, pool), env: {}, ci: ci(), steps: 'run' });
      expect(alone.result.error, alone.logger.lines.join('\n')).toBeUndefined();
      const runAlone = split(proxy.log).all;
      console.log(`Prefect 3, a run without deploy in its process: ${runAlone.length} requests (${runAlone.join(', ')})`);
      expect([...runAlone].sort()).toEqual([
        'GET /api/admin/version',
        `GET /api/deployments/name/hello/ci-req-${uid}`,
        `POST /api/deployments/${both.result.deployment!.id}/create_flow_run`,
      ]);
    });
  });

  describe.skipIf(!authUrl || !authString)('a server with basic auth and CSRF protection', () => {
    let proxy: FaultProxy;
    const pool = `ci-requests-csrf-${uid}`;
    const basic = () => `Basic ${Buffer.from(authString!).toString('base64')}`;

    beforeAll(async () => {
      proxy = await new FaultProxy(authUrl!).start();
      const client = randomUUID();
      const token = (await (await fetch(`${authUrl}/csrf-token?client=${client}`, { headers: { authorization: basic() } })).json()) as { token: string };
      const created = await fetch(`${authUrl}/work_pools/`, {
        method: 'POST',
        headers: { authorization: basic(), 'content-type': 'application/json', 'Prefect-Csrf-Token': token.token, 'Prefect-Csrf-Client': client },
        body: JSON.stringify({ name: pool, type: 'process', base_job_template: {} }),
      });
      expect([201, 409]).toContain(created.status);
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('asks for a token only after a write is refused for it, and still deploys and runs (the count is printed)', async () => {
      proxy.reset();
      const env = { PREFECT_API_AUTH_STRING: authString };
      const { result, logger } = await runConfig({ dir: tempDir('cfg'), yaml: config(proxy.url, `ci-req-csrf-${uid}`, pool), env, ci: ci() });
      expect(result.error, logger.lines.join('\n')).toBeUndefined();
      expect(result.run?.state).toBe('SCHEDULED');
      const { all, run } = split(proxy.log);
      console.log(`Prefect 3, CSRF on: deploy + run ${all.length} requests (${all.join(', ')}); the run ${run.length}`);
      // The first write is refused (403 "Missing CSRF token."), then one token for the whole process.
      expect(all.filter((r) => r === 'GET /api/csrf-token')).toHaveLength(1);
      expect(all.indexOf('GET /api/csrf-token')).toBe(all.indexOf('POST /api/flows/') + 1);
      expect(run).toEqual([`POST /api/deployments/${result.deployment!.id}/create_flow_run`]);
      expect(logger.rawLines.join('\n')).not.toContain(authString!);
    });
  });
});
