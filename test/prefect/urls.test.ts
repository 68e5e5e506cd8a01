import { describe, expect, it } from 'vitest';
import { DeployKwargs, PackageKwargs } from '../../src/config/schema.js';
import { resolvedFrom } from '../helpers/requests.js';
import { authorizationHeader, resolveConnection } from '../../src/orchestrators/prefect/connection.js';
import { buildDeploymentBody, scheduleOf } from '../../src/orchestrators/prefect/deployment-body.js';
import { defaultPullSteps } from '../../src/orchestrators/prefect/pull-steps.js';
import { ciContext } from '../helpers/services.js';
import { deploymentUrl, flowRunUrl, uiBaseUrl } from '../../src/orchestrators/prefect/urls.js';
import { parseServerVersion } from '../../src/orchestrators/prefect/version.js';

const CLOUD = 'https://api.prefect.cloud/api/accounts/aaa-111/workspaces/www-222';

describe('Prefect UI links', () => {
  it.each([
    ['self-hosted 3.x', { apiUrl: 'http://prefect:4200/api' }, 3, 'http://prefect:4200/runs/flow-run/R'],
    ['self-hosted 2.x', { apiUrl: 'http://prefect:4200/api' }, 2, 'http://prefect:4200/flow-runs/flow-run/R'],
    ['Cloud 3.x', { apiUrl: CLOUD }, 3, 'https://app.prefect.cloud/account/aaa-111/workspace/www-222/runs/flow-run/R'],
    ['Cloud 2.x', { apiUrl: CLOUD }, 2, 'https://app.prefect.cloud/account/aaa-111/workspace/www-222/flow-runs/flow-run/R'],
    ['PREFECT_UI_URL wins', { apiUrl: 'http://prefect:4200/api', uiUrl: 'https://ui.example.com' }, 3, 'https://ui.example.com/runs/flow-run/R'],
    ['behind a path prefix', { apiUrl: 'https://example.com/prefect/api' }, 3, 'https://example.com/prefect/runs/flow-run/R'],
  ])('%s', (_name, connection, major, expected) => {
    expect(flowRunUrl(uiBaseUrl(connection), major, 'R')).toBe(expected);
  });

  it('deployment links', () => {
    expect(deploymentUrl(uiBaseUrl({ apiUrl: CLOUD }), 'D')).toBe('https://app.prefect.cloud/account/aaa-111/workspace/www-222/deployments/deployment/D');
  });
});

describe('the Prefect connection', () => {
  it('reads the environment first, then prefect_settings, as Prefect does', () => {
    const c = resolveConnection({ PREFECT_API_URL: 'http://env:4200/api/' }, { PREFECT_API_URL: 'http://file/api', PREFECT_API_KEY: 'k' });
    expect(c).toEqual({ apiUrl: 'http://env:4200/api', apiKey: 'k', authString: undefined, uiUrl: undefined });
  });

  it.each([
    [{}, "PREFECT_API_URL is not set: add it to the workflow env (e.g. http://prefect.example.com:4200/api), to the Prefect profile 'default', or to orchestrator.config.prefect_settings"],
    [{ PREFECT_API_URL: 'prefect:4200' }, "PREFECT_API_URL 'prefect:4200' must be an http(s) URL"],
    [{ PREFECT_API_URL: 'not a url' }, "PREFECT_API_URL 'not a url' is not a URL; expected e.g. http://127.0.0.1:4200/api"],
  ])('%j → %s', (env, message) => {
    expect(() => resolveConnection(env)).toThrow(message);
  });

  it('a user and password in PREFECT_API_URL become the auth string; in PREFECT_UI_URL they are dropped with a warning', () => {
    const c = resolveConnection({ PREFECT_API_URL: 'https://ci:p%40ss@prefect.example/api/', PREFECT_UI_URL: 'https://v:ui-pw@ui.example/' });
    expect(c).toEqual({
      apiUrl: 'https://prefect.example/api',
      authString: 'ci:p@ss',
      uiUrl: 'https://ui.example',
      secrets: ['p@ss', 'p%40ss', 'ui-pw'],
      warnings: ['PREFECT_UI_URL carries a user and password: left out of every link (https://ui.example); a UI link needs none'],
    });
    expect(flowRunUrl(uiBaseUrl(c), 3, 'R')).toBe('https://ui.example/runs/flow-run/R');
    expect(() => resolveConnection({ PREFECT_API_URL: 'https://ci:pw@prefect.example/api', PREFECT_API_AUTH_STRING: 'a:b' })).toThrow(
      "PREFECT_API_URL 'https://prefect.example/api' carries a user and password and PREFECT_API_AUTH_STRING is set too: keep one (the auth string, or the URL's user:password@)",
    );
  });

  it('never sends both auth schemes: Bearer for Cloud, Basic for a self-hosted auth string', () => {
    expect(authorizationHeader({ apiUrl: CLOUD, apiKey: 'k', authString: 'u:p' })).toBe('Bearer k');
    expect(authorizationHeader({ apiUrl: 'http://x/api', apiKey: 'k', authString: 'u:p' })).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(authorizationHeader({ apiUrl: 'http://x/api', apiKey: 'k' })).toBe('Bearer k');
    expect(authorizationHeader({ apiUrl: 'http://x/api' })).toBeUndefined();
  });
});

describe('the deployment body per server version (fields each server version knows)', () => {
  const spec = {
    name: 'd',
    flowId: 'f',
    workPool: 'p',
    entrypoint: 'a.py:f',
    pullSteps: [],
    jobVariables: { image: 'i' },
    parameters: {},
    tags: [],
  };
  it.each([
    ['2.14.12', { infra_overrides: { image: 'i' } }, ['job_variables', 'paused']],
    ['2.18.0', { job_variables: { image: 'i' } }, ['infra_overrides', 'paused']],
    ['2.20.3', { job_variables: { image: 'i' }, paused: false }, ['infra_overrides']],
    ['3.8.8', { job_variables: { image: 'i' }, paused: false }, ['infra_overrides', 'schedule', 'is_schedule_active']],
  ])('%s', (version, present, absent) => {
    const body = buildDeploymentBody(spec, parseServerVersion(version));
    expect(body).toMatchObject(present);
    for (const key of absent) expect(body).not.toHaveProperty(key);
    // Never an explicit null schema: it makes every run fail with 409 under enforcement.
    expect(body.parameter_openapi_schema).toEqual({ title: 'Parameters', type: 'object', properties: {} });
  });
});

describe("lolpop's deployment_kwargs in the body, per server version", () => {
  const spec = { name: 'd', flowId: 'f', workPool: 'p', entrypoint: 'a.py:f', pullSteps: [], jobVariables: {}, parameters: {}, tags: [] };
  it('a schedule goes in schedules on 2.18+ and 3.x, in schedule before', () => {
    const schedule = scheduleOf({ cron: '0 3 * * *', timezone: 'UTC' });
    expect(buildDeploymentBody({ ...spec, schedule }, parseServerVersion('2.20.27')).schedules).toEqual([{ schedule: { cron: '0 3 * * *', timezone: 'UTC' }, active: true }]);
    expect(buildDeploymentBody({ ...spec, schedule }, parseServerVersion('3.8.8')).schedules).toEqual([{ schedule: { cron: '0 3 * * *', timezone: 'UTC' }, active: true }]);
    expect(buildDeploymentBody({ ...spec, schedule }, parseServerVersion('2.14.12')).schedule).toEqual({ cron: '0 3 * * *', timezone: 'UTC' });
    expect(buildDeploymentBody(spec, parseServerVersion('3.8.8'))).not.toHaveProperty('schedules');
  });

  it('concurrency_limit needs Prefect 3, paused needs 2.19: refused on older servers, not dropped', () => {
    expect(buildDeploymentBody({ ...spec, concurrencyLimit: 2, paused: true }, parseServerVersion('3.8.8'))).toMatchObject({ concurrency_limit: 2, paused: true });
    expect(() => buildDeploymentBody({ ...spec, concurrencyLimit: 2 }, parseServerVersion('2.20.27'))).toThrow(
      'Failed to deploy: deployment_kwargs.concurrency_limit needs a Prefect 3.0+ server; this one is 2.20.27. Remove it or upgrade the server.',
    );
    expect(() => buildDeploymentBody({ ...spec, paused: true }, parseServerVersion('2.14.12'))).toThrow(/deployment_kwargs\.paused needs a Prefect 2\.19\+ server/);
  });

  it('one schedule kind at a time, and a timezone needs one', () => {
    expect(scheduleOf({ interval: 3600 })).toEqual({ interval: 3600 });
    expect(scheduleOf({})).toBeUndefined();
    expect(() => scheduleOf({ cron: '* * * * *', interval: 60 })).toThrow("deployment_kwargs gives cron and interval; Prefect's deploy() takes one of cron, interval, rrule");
    expect(() => scheduleOf({ timezone: 'UTC' })).toThrow('deployment_kwargs.timezone needs cron, interval or rrule');
  });
});

describe('pull steps for a process pool, per server major', () => {
  const ci = ciContext({ serverUrl: 'https://github.com', repository: 'acme/ml', sha: 'abc123', refName: 'main' });
  it('3.x clones at the commit; 2.x (no commit_sha) clones, then fetches and checks out the commit', () => {
    expect(defaultPullSteps('process', ci, parseServerVersion('3.8.8'))).toEqual([
      { 'prefect.deployments.steps.git_clone': { repository: 'https://github.com/acme/ml.git', commit_sha: 'abc123' } },
    ]);
    expect(defaultPullSteps('process', ci, parseServerVersion('2.20.27'))).toEqual([
      { 'prefect.deployments.steps.git_clone': { id: 'clone', repository: 'https://github.com/acme/ml.git' } },
      {
        'prefect.deployments.steps.run_shell_script': {
          directory: '{{ clone.directory }}',
          script: 'git fetch --quiet --depth 1 origin abc123\ngit checkout --quiet abc123',
        },
      },
    ]);
    expect(defaultPullSteps('docker', ci, parseServerVersion('2.20.27'))).toEqual([
      { 'prefect.deployments.steps.set_working_directory': { directory: '/opt/prefect' } },
    ]);
  });
});

describe('the flow name every step looks up', () => {
  it('follows a name given in flow_kwargs, as the generated @flow(name=…) registers it', () => {
    const deploy = DeployKwargs.parse({});
    expect(resolvedFrom('PrefectOrchestrator', { package: PackageKwargs.parse({ lolpop_class: 'Q' }), deploy }).flowName).toBe('prefect-entrypoint');
    expect(resolvedFrom('PrefectOrchestrator', { package: PackageKwargs.parse({ lolpop_class: 'Q', flow_kwargs: { name: 'my-flow' } }), deploy }).flowName).toBe('my-flow');
    expect(resolvedFrom('PrefectOrchestrator', { package: PackageKwargs.parse({}), deploy: DeployKwargs.parse({ flow_entrypoint: 'flows/a.py:train_model' }) }).flowName).toBe('train-model');
  });
});
