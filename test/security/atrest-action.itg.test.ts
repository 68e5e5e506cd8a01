import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { service, tempDir } from '../helpers/services.js';
import { SECRET, SECRET_FORMS, standInPrefect } from './atrest-stand-ins.js';

// Secrets at rest through the bundled action under Node 24, as the runner runs it: a
// `${VAR}` run parameter listed in run.secret_parameters is stored nowhere in clear — not in
// the local run's files and report.html (the artifact the README says to upload), not in
// what a Prefect server (a stand-in on loopback) is sent outside its Secret block.

const node24 = service('LOLPOP_TEST_NODE24');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

/** A push to main of acme/churn: a process pool's worker would clone it. */
function github(): Record<string, string> {
  const sha = 'a'.repeat(40);
  return {
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REPOSITORY: 'acme/churn',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_NUMBER: '7',
  };
}

let server: Server | undefined;
afterEach(() => server?.close());

describe.skipIf(!node24)('secrets at rest: the bundled action under Node 24', () => {
  beforeAll(() => expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true));

  it('LocalOrchestrator: the flow gets the secret parameter; .lolpop-deploy (run.json, spec.json, log.txt, report.html) holds *** for it', async () => {
    const dir = tempDir('atrest-action-local');
    writeFileSync(path.join(dir, 'secret_flow.py'), 'import json\ndef main(**params):\n    with open("received.json", "w") as f:\n        json.dump(params, f)\n');
    writeFileSync(
      path.join(dir, 'lolpop.yaml'),
      `orchestrator:
  deployment:
    name: secrets
    type: local
    package: {flow_entrypoint: secret_flow.py:main, lolpop_install_location: ""}
    run:
      parameters: {api_key: "\${ATREST_API_KEY}", team: ml}
      secret_parameters: [api_key]
`,
    );
    const run = await runBundledAction({ node: node24!, cwd: dir, inputs: { steps: 'deploy,run', comment: 'never' }, env: { ...github(), ATREST_API_KEY: SECRET } });
    expect(run.status, run.log).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'received.json'), 'utf8'))).toEqual({ api_key: SECRET, team: 'ml' });
    const stored = filesUnder(path.join(dir, '.lolpop-deploy'));
    expect(stored.some((f) => f.endsWith('report.html'))).toBe(true);
    for (const file of stored) for (const form of SECRET_FORMS) expect(readFileSync(file, 'utf8'), file).not.toContain(form);
  }, 60_000);

  it('PrefectOrchestrator: deployment and flow-run parameters hold only the Secret block name; the value is sent only to that block', async () => {
    const prefect = standInPrefect();
    server = prefect.server;
    await new Promise<void>((resolve) => prefect.server.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(prefect.server.address() as AddressInfo).port}/api`;
    const dir = tempDir('atrest-action-prefect');
    writeFileSync(
      path.join(dir, 'lolpop.yaml'),
      `decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  deployment:
    name: churn-model
    package: {lolpop_class: QuickstartRunner, lolpop_module: quickstart_runner}
    deploy: {work_pool: pool}
    run:
      parameters: {api_key: "\${ATREST_API_KEY}", team: ml}
      secret_parameters: [api_key]
`,
    );
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { steps: 'deploy,run', comment: 'never' },
      env: { ...github(), PREFECT_API_URL: apiUrl, ATREST_API_KEY: SECRET },
    });
    expect(run.status, run.log).toBe(0);
    const blockWrites = prefect.received.filter((r) => r.path.startsWith('/block_documents/'));
    expect(blockWrites.map((r) => r.body)).toEqual([expect.objectContaining({ data: { value: SECRET } })]);
    const others = prefect.received.filter((r) => !blockWrites.includes(r));
    for (const form of SECRET_FORMS) expect(JSON.stringify(others)).not.toContain(form);
    const [blockName] = [...prefect.blocks.keys()];
    const flowRun = prefect.received.find((r) => r.path.endsWith('/create_flow_run'))!.body as { parameters: unknown };
    expect(flowRun.parameters).toEqual({ params: { team: 'ml' }, lolpop_secret_parameters: { api_key: blockName } });
  }, 60_000);
});
