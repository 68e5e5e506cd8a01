import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { AirflowApi } from '../../src/orchestrators/airflow/api.js';
import { AirflowClient } from '../../src/orchestrators/airflow/client.js';
import { service } from '../helpers/services.js';
import { airflowService } from './helpers.js';

const airflow = airflowService();
const home = service('LOLPOP_TEST_AIRFLOW_HOME');

/** A token as the server's own auth manager issues it (same secret), but expired an hour ago. */
function expiredToken(secret: string, username: string): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const header = b64({ alg: 'HS512', kid: 'not-used', typ: 'JWT' });
  const payload = b64({ sub: username, role: 'admin', teams: [], jti: 'expired-test', aud: 'apache-airflow', nbf: now - 7200, iat: now - 7200, exp: now - 3600 });
  const signature = createHmac('sha512', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

describe.skipIf(!airflow || !home)('AirflowClient against a real Airflow 3: an expired token', () => {
  it("gets the server's 401 Token Expired, logs in again once, and the call succeeds", async () => {
    const logger = new MemoryLogger();
    const client = new AirflowClient({ baseUrl: airflow!.url, username: airflow!.username, password: airflow!.password, uiUrl: airflow!.url }, { logger });
    // As if the client had logged in a day ago: its token has expired since.
    (client as unknown as { token: string }).token = expiredToken(readFileSync(path.join(home!, 'jwt-secret'), 'utf8').trim(), airflow!.username);
    const dag = await new AirflowApi(client).anyDagOfBundle('dags-folder');
    expect(dag === undefined || typeof dag.dag_id === 'string').toBe(true);
    const lines = logger.lines.join('\n');
    expect(lines).toMatch(/airflow: GET \/api\/v2\/dags → 401 \(Token Expired\); logging in again/);
    expect(lines).toMatch(/airflow: POST \/auth\/token → 201/);
    expect(lines).toMatch(/airflow: GET \/api\/v2\/dags → 200/);
    expect(lines).not.toContain(airflow!.password);
  });
});
