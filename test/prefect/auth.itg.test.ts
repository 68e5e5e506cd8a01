import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { runConfig } from '../helpers/pipeline.js';

// scripts/services.sh starts this server with PREFECT_SERVER_API_AUTH_STRING and
// PREFECT_SERVER_CSRF_PROTECTION_ENABLED=true.
const apiUrl = service('LOLPOP_TEST_PREFECT_AUTH_URL');
const authString = service('LOLPOP_TEST_PREFECT_AUTH_STRING');

const yaml = (name: string) => `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  deployment:
    name: ${name}
    deploy:
      work_pool: auth-pool
      flow_entrypoint: flows.py:hello
      pull_steps:
        - prefect.deployments.steps.set_working_directory: {directory: /tmp}
`;

describe.skipIf(!apiUrl)('a Prefect server with basic auth and CSRF protection', () => {
  it('deploys and creates a run with the auth string from the environment, fetching a CSRF token', async () => {
    // The test makes the pool itself over the real API (the tool never creates pools).
    const basic = `Basic ${Buffer.from(authString!).toString('base64')}`;
    const csrfClient = randomUUID();
    const token = (await (await fetch(`${apiUrl}/csrf-token?client=${csrfClient}`, { headers: { authorization: basic } })).json()) as { token: string };
    const created = await fetch(`${apiUrl}/work_pools/`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json', 'Prefect-Csrf-Token': token.token, 'Prefect-Csrf-Client': csrfClient },
      body: JSON.stringify({ name: 'auth-pool', type: 'process', base_job_template: {} }),
    });
    expect([201, 409]).toContain(created.status);

    const env = { PREFECT_API_URL: apiUrl, PREFECT_API_AUTH_STRING: authString };
    const { result, logger } = await runConfig({
      dir: tempDir('auth'),
      yaml: yaml(`auth-${randomUUID().slice(0, 6)}`),
      env,
      ci: ciContext({ runId: randomUUID() }),
    });
    expect(result.error, logger.lines.join('\n')).toBeUndefined();
    expect(result.run?.state).toBe('SCHEDULED');
    // Neither the auth string nor its base64 form is logged, not even before redaction.
    const text = logger.rawLines.join('\n');
    expect(text).not.toContain(authString!);
    expect(text).not.toContain(Buffer.from(authString!).toString('base64'));
  });

  it('a wrong auth string ends in one line that says the credentials were refused', async () => {
    const env = { PREFECT_API_URL: apiUrl, PREFECT_API_AUTH_STRING: 'ci-admin:wrong-password' };
    const { result, logger } = await runConfig({ dir: tempDir('auth'), yaml: yaml('auth-wrong'), env, ci: ciContext() });
    expect(result.error?.message).toBe(
      `Failed to read the server version: the Prefect API at ${apiUrl} refused the credentials (401: Unauthorized); ` +
        'check PREFECT_API_KEY (Cloud) or PREFECT_API_AUTH_STRING (self-hosted)',
    );
    expect(logger.rawLines.join('\n')).not.toContain('wrong-password');
    expect(logger.secrets).toContain('ci-admin:wrong-password');
  });

  it('a wrong API key (Bearer) is refused the same way', async () => {
    const env = { PREFECT_API_URL: apiUrl, PREFECT_API_KEY: 'pnu_not-a-real-key' };
    const { result } = await runConfig({ dir: tempDir('auth'), yaml: yaml('auth-key'), env, ci: ciContext() });
    expect(result.error?.message).toMatch(/refused the credentials \(401/);
    expect(result.error?.message).not.toContain('pnu_not-a-real-key');
  });
});
