import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/logger.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { runConfig } from '../../src/run-config.js';
import { parseSteps } from '../../src/steps.js';
import { ciContext, tempDir } from '../helpers/services.js';

const YAML = `
decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  deployment:
    name: nightly
    package:
      lolpop_class: QuickstartRunner
      lolpop_module: quickstart_runner
      docker_image_tag: ghcr.io/acme/quickstart:{sha}
      push_image: true
    deploy: {work_pool: k8s-pool, tags: [ml]}
    run: {parameters: {min_accuracy: 0.9}}
`;

/** A plan with no Prefect server configured, as on a fork's pull request (no secrets). */
async function offlinePlan() {
  const dir = tempDir('plan');
  writeFileSync(path.join(dir, 'lolpop.yaml'), YAML);
  const calls: string[] = [];
  const fetch = (async (url: string) => {
    calls.push(String(url));
    throw new Error('plan must not call a server here');
  }) as unknown as typeof globalThis.fetch;
  const config = loadConfigSync(path.join(dir, 'lolpop.yaml'), {}, orchestratorLookup, {});
  const ci = ciContext({ sha: 'a1b2c3d4e5f6', shortSha: 'a1b2c3d', repository: 'acme/q', runId: '77', runAttempt: '2' });
  const result = await runConfig(config, parseSteps('plan'), { logger: new MemoryLogger(), env: {}, ci, fetch, workdir: dir });
  return { dir, result, calls };
}

describe('PrefectOrchestrator plan without a server', () => {
  it('needs no PREFECT_API_URL, sends nothing and writes nothing', async () => {
    const { dir, result, calls } = await offlinePlan();
    expect(result.error).toBeUndefined();
    expect(calls).toEqual([]);
    expect(readdirSync(dir)).toEqual(['lolpop.yaml']);
    expect(result.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['plan:success']);
  });

  it('lists the files, the image (with the pool-type condition) and the requests deploy and run would send', async () => {
    const { result } = await offlinePlan();
    const plan = result.plan!;
    expect(plan.actions).toEqual([
      'no Prefect server configured (PREFECT_API_URL): an offline plan, nothing read from a server',
      'write prefect_files/run.py (new)',
      'write Dockerfile (new)',
      'build ghcr.io/acme/quickstart:a1b2c3d4e5f6 from Dockerfile and push it to ghcr.io (only if the work pool runs containers; its type needs the server)',
      'create or update deployment prefect-entrypoint/nightly on work pool k8s-pool (pull steps and job variables shown for a process pool; the pool type needs the server)',
      'start a flow run of prefect-entrypoint/nightly with parameters {"params":{"min_accuracy":0.9}}',
    ]);
    expect(plan.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST $PREFECT_API_URL/flows/',
      'POST $PREFECT_API_URL/deployments/',
      'POST $PREFECT_API_URL/deployments/<id of prefect-entrypoint/nightly>/create_flow_run',
    ]);
    expect(plan.requests[1]!.body).toMatchObject({
      name: 'nightly',
      flow_id: '<id of flow prefect-entrypoint>',
      work_pool_name: 'k8s-pool',
      entrypoint: 'prefect_files/run.py:prefect_entrypoint',
      tags: ['ml'],
      version: 'a1b2c3d',
    });
    expect(plan.requests[2]!.body).toEqual({ parameters: { params: { min_accuracy: 0.9 } }, idempotency_key: 'lolpop-deploy/acme/q/77/2/nightly' });
  });
});
