import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeTinyWorkflow } from '../airflow/helpers.js';
import { BUNDLE, runBundledAction } from '../helpers/run-action.js';
import { CLI_BUNDLE, runBundledCli } from '../helpers/run-cli.js';
import { service, tempDir } from '../helpers/services.js';
import { airflow, prefect, prefectYaml, redirectEverything, standIn, type StandIn } from './http-stand-ins.js';

/**
 * Issue 19 (HTTP area) where the issue says the CLI or the action shows it: the
 * bundled CLI (dist/cli/index.js) and the bundled action (dist/index.js) under Node
 * 24, against hostile stand-in servers on 127.0.0.1. `npm run bundle` first.
 */
const CLI = CLI_BUNDLE;
const node24 = service('LOLPOP_TEST_NODE24');

const servers: StandIn[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(...args: Parameters<typeof standIn>): Promise<StandIn> {
  const s = await standIn(...args);
  servers.push(s);
  return s;
}


function prefectProject(name: string): string {
  const dir = tempDir('http-cli');
  writeFileSync(path.join(dir, 'lolpop.yaml'), prefectYaml(name));
  return dir;
}

const githubEnv = () => ({ GITHUB_REPOSITORY: 'acme/tiny', GITHUB_RUN_ID: randomUUID(), GITHUB_RUN_ATTEMPT: '1', GITHUB_EVENT_NAME: 'workflow_dispatch' });

describe('the bundled CLI', () => {
  it('PREFECT_API_URL with user:password@ deploys and runs with them as basic auth; --json, links and messages carry none', async () => {
    expect(existsSync(CLI), 'dist/cli/index.js must be built (npm run bundle)').toBe(true);
    const password = 'cli-url-password-1';
    const server = await start(prefect(`Basic ${Buffer.from(`admin:${password}`).toString('base64')}`));
    const env = { PREFECT_API_URL: `${server.url.replace('://', `://admin:${password}@`)}/api`, PREFECT_HOME: tempDir('prefect-home') };
    const up = await runBundledCli(['up', '-c', 'lolpop.yaml', '--steps', 'deploy,run', '--json'], prefectProject('cli-userinfo'), env);
    expect(up.code, up.stderr).toBe(0);
    const result = JSON.parse(up.stdout) as { run: { url: string }; deployment: { url: string } };
    expect(result.run.url).toBe(`${server.url}/runs/flow-run/run-1`);
    expect(result.deployment.url).toBe(`${server.url}/deployments/deployment/deployment-1`);
    expect(up.stdout + up.stderr).not.toContain(password);
    expect(up.stdout + up.stderr).not.toContain('admin:');
  });

  it('a Prefect server that redirects every call: nothing reaches the origin it names, exit 1 with the line', async () => {
    const elsewhere = await start(prefect());
    const hostile = await start(redirectEverything(() => elsewhere.url));
    const env = { PREFECT_API_URL: `${hostile.url}/api`, PREFECT_HOME: tempDir('prefect-home') };
    const up = await runBundledCli(['up', '-c', 'lolpop.yaml', '--steps', 'deploy,run'], prefectProject('cli-redirect'), env);
    expect(elsewhere.received).toEqual([]);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(
      `the Prefect API at ${hostile.url}/api answered 307 to GET /admin/version, a redirect to ${elsewhere.url}/api/admin/version; not followed: ` +
        'credentials and writes are not sent to an origin you did not name; if the API moved there, set PREFECT_API_URL to its new address',
    );
  });
});

describe.skipIf(!node24)('the bundled action under Node 24', () => {
  it('AIRFLOW_API_URL and AIRFLOW_UI_URL with user:password@: the API ones log in, neither reaches the log, run-url or the summary', async () => {
    expect(existsSync(BUNDLE), 'dist/index.js must be built (npm run bundle)').toBe(true);
    const server = await start(airflow('admin', 'action-api-password-1'));
    const dir = tempDir('http-action');
    const dags = path.join(dir, 'dags');
    mkdirSync(dags);
    writeTinyWorkflow(dir, { name: 'userinfo-action', dagsFolder: dags });
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { comment: 'never', config: 'lolpop.yaml', orchestrator: 'AirflowOrchestrator', steps: 'run' },
      env: {
        AIRFLOW_API_URL: server.url.replace('://', '://admin:action-api-password-1@'),
        AIRFLOW_UI_URL: 'https://viewer:action-ui-password-1@airflow.example.com',
        ...githubEnv(),
      },
    });
    // runBundledAction has already checked that neither password is in the log (before its ::add-mask::), an output or the summary.
    expect(run.status, run.log).toBe(0);
    expect(server.received.find((r) => r.url === '/auth/token')?.body).toBe(JSON.stringify({ username: 'admin', password: 'action-api-password-1' }));
    expect(run.outputs['run-url']).toMatch(/^https:\/\/airflow\.example\.com\/dags\/userinfo-action\/runs\/lolpop-deploy~acme~tiny~/);
    expect(run.log).toMatch(/::warning::AIRFLOW_UI_URL carries a user and password: left out of every link/);
  });

  it('a Prefect server that redirects every call: the step fails with the line, nothing created where it points', async () => {
    const elsewhere = await start(prefect());
    const hostile = await start(redirectEverything(() => elsewhere.url));
    const dir = prefectProject('action-redirect');
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { comment: 'never', config: 'lolpop.yaml', steps: 'deploy,run' },
      env: { PREFECT_API_URL: `${hostile.url}/api`, PREFECT_API_AUTH_STRING: 'admin:action-auth-password-1', PREFECT_HOME: tempDir('prefect-home'), ...githubEnv() },
    });
    expect(elsewhere.received).toEqual([]);
    expect(run.status).toBe(1);
    expect(run.log).toContain(`::error::Failed to read the server version: the Prefect API at ${hostile.url}/api answered 307 to GET /admin/version, a redirect to ${elsewhere.url}/api/admin/version`);
    expect(run.outputs['run-url'] ?? '').toBe('');
  });
});
