import { afterEach, describe, expect, it } from 'vitest';
import { githubFetch, GITHUB_LIMITS } from '../../src/action/github/github-fetch.js';
import { MemoryLogger } from '../../src/logger.js';
import { AirflowClient } from '../../src/orchestrators/airflow/client.js';
import { AirflowConfig } from '../../src/orchestrators/airflow/config.js';
import { resolveConnection } from '../../src/orchestrators/airflow/connection.js';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, tempDir } from '../helpers/services.js';
import { json, notFound, prefect, prefectYaml, redirectEverything, standIn, type StandIn } from './http-stand-ins.js';

/**
 * Issue 19, "Redirects are followed for writes": a server that answers 307 must not
 * get our credentials, login body or writes sent to the origin it names. Each test has
 * the hostile server and, as the origin it points to, a second one that records what
 * reaches it: nothing may.
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

describe('redirects are never followed', () => {
  it('Airflow: a 307 on the login does not carry the username and password to the origin it names', async () => {
    const elsewhere = await start(notFound);
    const hostile = await start((req, res) => {
      if (req.url === '/api/v2/version') return json(res, 200, { version: '3.3.2' });
      // The query of the Location is not printed (it may carry a token).
      res.writeHead(307, { location: `${elsewhere.url}/auth/token?session=query-secret` });
      res.end();
    });
    const logger = new MemoryLogger();
    const connection = resolveConnection({ AIRFLOW_API_URL: hostile.url, AIRFLOW_USERNAME: 'admin', AIRFLOW_PASSWORD: 'login-password-1' }, AirflowConfig.parse({}));
    const client = new AirflowClient(connection, { logger, backoffLimitMs: 10 });
    const error = (await client.request('GET', 'dags', { action: 'list the DAGs', schema: AirflowConfig }).catch((e: Error) => e)) as Error;
    expect(elsewhere.received).toEqual([]);
    expect(error.message).toBe(
      `Failed to list the DAGs (log in as admin): the Airflow API at ${hostile.url} answered 307 to POST /auth/token, a redirect to ${elsewhere.url}/auth/token; ` +
        'not followed: credentials and writes are not sent to an origin you did not name; if the API moved there, set AIRFLOW_API_URL to its new address',
    );
    // One try: a redirect is an answer, not a hiccup to retry.
    expect(hostile.received.filter((r) => r.url === '/auth/token')).toHaveLength(1);
  });

  it('Prefect: a server that redirects every call gets no deployment or flow run created elsewhere, and the step fails with the line', async () => {
    // A working Prefect where the redirects point: followed, the step would succeed there.
    const elsewhere = await start(prefect());
    const hostile = await start(redirectEverything(() => elsewhere.url));
    const env = { PREFECT_API_URL: `${hostile.url}/api`, PREFECT_API_AUTH_STRING: 'admin:prefect-password-1', PREFECT_HOME: tempDir('prefect-home') };
    const { result } = await runConfig({ dir: tempDir('redirect'), yaml: prefectYaml('redirected'), env, ci: ciContext() });
    expect(elsewhere.received).toEqual([]);
    expect(result.run).toBeUndefined();
    expect(result.error?.message).toBe(
      `Failed to read the server version: the Prefect API at ${hostile.url}/api answered 307 to GET /admin/version, a redirect to ${elsewhere.url}/api/admin/version; ` +
        'not followed: credentials and writes are not sent to an origin you did not name; if the API moved there, set PREFECT_API_URL to its new address',
    );
  });

  it("GitHub: Octokit's fetch does not follow a 307 on a comment write with the token", async () => {
    const elsewhere = await start(notFound);
    // The Location's userinfo and query are not printed.
    const hostile = await start(redirectEverything(() => elsewhere.url.replace('://', '://attacker:location-password@'), 307, '?q=query-secret'));
    const fetch = githubFetch(GITHUB_LIMITS);
    const write = fetch(`${hostile.url}/repos/acme/app/issues/1/comments`, { method: 'POST', headers: { authorization: 'token ghs_secret-token' }, body: '{"body":"x"}' });
    await expect(write).rejects.toThrow(
      `the GitHub API answered 307, a redirect to ${elsewhere.url}/repos/acme/app/issues/1/comments: not followed (credentials and writes go only to the configured origin) (POST /repos/acme/app/issues/1/comments)`,
    );
    expect(elsewhere.received).toEqual([]);
  });
});
