import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { writeTinyWorkflow } from '../airflow/helpers.js';
import { airflow, prefect, prefectYaml, standIn, type StandIn } from './http-stand-ins.js';

/**
 * Issue 19, "Credentials in URLs": a user and password written into the API URL are
 * the credentials (they work against the server) and appear in no URL, message or
 * result; in a UI URL they are dropped from every link.
 */
const servers: StandIn[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start(...args: Parameters<typeof standIn>): Promise<StandIn> {
  const s = await standIn(...args);
  servers.push(s);
  return s;
}

/** http://user:password@127.0.0.1:port, from a stand-in's URL. */
function withUserinfo(url: string, user: string, password: string): string {
  return url.replace('://', `://${user}:${encodeURIComponent(password)}@`);
}

/** Everything the run produced that a user or a later step sees. */
function produced(run: Awaited<ReturnType<typeof runConfig>>): string {
  return `${run.logger.rawLines.join('\n')}\n${JSON.stringify(run.result)}\n${run.result.error?.message ?? ''}`;
}

describe('credentials in URLs', () => {
  it('AIRFLOW_API_URL: its user and password log in (not "dropped the connection"), and are in no URL or message', async () => {
    const password = 'airflow-url-password-1';
    const server = await start(airflow('admin', password));
    const dir = tempDir('airflow-userinfo');
    writeTinyWorkflow(dir, { name: 'userinfo-dag', dagsFolder: dir });
    const env = { AIRFLOW_API_URL: withUserinfo(server.url, 'admin', password) };
    const run = await runConfig({ dir, yaml: `decorator:\n  orchestrator: AirflowOrchestrator\n${readYaml(dir)}`, env, ci: ciContext(), steps: 'run' });
    expect(run.result.error?.message).toBeUndefined();
    expect(server.received.find((r) => r.url === '/auth/token')?.body).toBe(JSON.stringify({ username: 'admin', password }));
    expect(run.result.run?.url).toMatch(new RegExp(`^${server.url}/dags/userinfo-dag/runs/`));
    expect(produced(run)).not.toContain(password);
    expect(produced(run)).not.toContain('admin:');
  });

  it('AIRFLOW_UI_URL: its user and password are not in the run URL (the run-url output), with a warning that says so', async () => {
    const server = await start(airflow('admin', 'api-password-1'));
    const dir = tempDir('airflow-ui-userinfo');
    writeTinyWorkflow(dir, { name: 'ui-dag', dagsFolder: dir });
    const env = { AIRFLOW_API_URL: server.url, AIRFLOW_USERNAME: 'admin', AIRFLOW_PASSWORD: 'api-password-1', AIRFLOW_UI_URL: 'https://viewer:ui-password-1@airflow.example.com/' };
    const run = await runConfig({ dir, yaml: `decorator:\n  orchestrator: AirflowOrchestrator\n${readYaml(dir)}`, env, ci: ciContext(), steps: 'run' });
    expect(run.result.error?.message).toBeUndefined();
    expect(run.result.run?.url).toMatch(/^https:\/\/airflow\.example\.com\/dags\/ui-dag\/runs\//);
    expect(produced(run)).not.toContain('ui-password-1');
    expect(run.logger.lines).toContain('warning: AIRFLOW_UI_URL carries a user and password: left out of every link (https://airflow.example.com); a UI link needs none');
  });

  it('PREFECT_API_URL: its user and password are the basic auth, and are in no deployment or run link, result or message', async () => {
    const password = 'prefect-url-password-1';
    const server = await start(prefect(`Basic ${Buffer.from(`admin:${password}`).toString('base64')}`));
    const env = { PREFECT_API_URL: `${withUserinfo(server.url, 'admin', password)}/api`, PREFECT_HOME: tempDir('prefect-home') };
    const run = await runConfig({ dir: tempDir('prefect-userinfo'), yaml: prefectYaml('userinfo'), env, ci: ciContext() });
    expect(run.result.error?.message).toBeUndefined();
    expect(run.result.run?.url).toBe(`${server.url}/runs/flow-run/run-1`);
    expect(run.result.deployment?.url).toBe(`${server.url}/deployments/deployment/deployment-1`);
    expect(produced(run)).not.toContain(password);
    expect(produced(run)).not.toContain('admin:');
  });
});

function readYaml(dir: string): string {
  return readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8');
}
