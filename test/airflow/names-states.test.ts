import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { AirflowConfig } from '../../src/orchestrators/airflow/config.js';
import { resolveConnection } from '../../src/orchestrators/airflow/connection.js';
import type { AirflowApi } from '../../src/orchestrators/airflow/api.js';
import { exceptionOf, failureDetail, lastException, logTail } from '../../src/orchestrators/airflow/failure.js';
import { dagIdFor, runIdFor } from '../../src/orchestrators/airflow/names.js';
import { importProblem } from '../../src/orchestrators/airflow/parse.js';
import { isTerminal, stateType } from '../../src/orchestrators/airflow/states.js';
import { dagRunUrl, dagUrl, parseDagRunUrl } from '../../src/orchestrators/airflow/urls.js';
import { isFailure } from '../../src/orchestrators/orchestrator.js';

describe('Airflow DagRun states as state types', () => {
  it.each([
    ['queued', 'SCHEDULED', false],
    ['running', 'RUNNING', false],
    ['success', 'COMPLETED', true],
    ['failed', 'FAILED', true],
  ] as const)('%s → %s', (state, type, terminal) => {
    expect(stateType(state)).toBe(type);
    expect(isTerminal(state)).toBe(terminal);
  });

  it('failed is one of the states the pipeline treats as a failure; the others are not', () => {
    expect(isFailure(stateType('failed'))).toBe(true);
    for (const state of ['queued', 'running', 'success'] as const) expect(isFailure(stateType(state))).toBe(false);
  });
});

describe('names', () => {
  it.each([
    ['lolpop-quickstart', 'lolpop-quickstart'],
    ['my deploy/pr-7', 'my_deploy_pr-7'],
  ])('the DAG id of %s is %s', (name, id) => expect(dagIdFor(name)).toBe(id));

  it('refuses a name with nothing Airflow can use', () => expect(() => dagIdFor('///')).toThrow(ConfigError));

  it('derives a valid, stable run id from an idempotency key; keys that differ only in replaced characters stay apart', () => {
    const key = 'lolpop-deploy/acme/app/123/1/lolpop-quickstart';
    const id = runIdFor(key);
    expect(id).toMatch(/^[A-Za-z0-9_.~:+-]+$/);
    expect(id).toMatch(/^lolpop-deploy~acme~app~123~1~lolpop-quickstart~[0-9a-f]{10}$/);
    expect(runIdFor(key)).toBe(id);
    expect(runIdFor('a/b')).not.toBe(runIdFor('a b'));
    expect(runIdFor('x'.repeat(400)).length).toBeLessThanOrEqual(250);
  });

  it('builds and reads back run URLs, as each UI links them', () => {
    const url = dagRunUrl('http://af:8080', 'd', 'a~b:c+1', 'v2');
    expect(url).toBe('http://af:8080/dags/d/runs/a~b%3Ac%2B1');
    expect(parseDagRunUrl(url)).toEqual({ dagId: 'd', runId: 'a~b:c+1' });
    const v1 = dagRunUrl('http://af:8080', 'd', 'a~b:c+1', 'v1');
    expect(v1).toBe('http://af:8080/dags/d/grid?dag_run_id=a%7Eb%3Ac%2B1');
    expect(parseDagRunUrl(v1)).toEqual({ dagId: 'd', runId: 'a~b:c+1' });
    expect(dagUrl('http://af:8080', 'd', 'v1')).toBe('http://af:8080/dags/d/grid');
  });
});

describe('connection', () => {
  const config = AirflowConfig.parse({ api_url: 'http://from-config:8080/', username: 'u', password: 'p' });
  it('takes the environment first, then the config; strips /api/v2 and trailing slashes', () => {
    expect(resolveConnection({ AIRFLOW_API_URL: 'http://env:8080/api/v2' }, config)).toEqual({ baseUrl: 'http://env:8080', apiVersion: 'v2', username: 'u', password: 'p', uiUrl: 'http://env:8080' });
    expect(resolveConnection({ AIRFLOW_API_URL: 'http://env:8080/api/v1/' }, config)).toMatchObject({ baseUrl: 'http://env:8080', apiVersion: 'v1' });
    expect(resolveConnection({ AIRFLOW_API_URL: 'http://env:8080' }, config).apiVersion).toBeUndefined();
    expect(resolveConnection({}, config).baseUrl).toBe('http://from-config:8080');
  });
  it('says what to set when there is no URL, or only half of the credentials', () => {
    expect(() => resolveConnection({}, AirflowConfig.parse({}))).toThrow(/AIRFLOW_API_URL is not set/);
    expect(() => resolveConnection({ AIRFLOW_API_URL: 'http://a', AIRFLOW_USERNAME: 'u' }, AirflowConfig.parse({}))).toThrow(/AIRFLOW_PASSWORD is not set but AIRFLOW_USERNAME is/);
  });
  it('a user and password in the API URL are the credentials, out of the URL; in the UI URL they are dropped with a warning', () => {
    const none = AirflowConfig.parse({});
    expect(resolveConnection({ AIRFLOW_API_URL: 'https://ci:p%40ss@af.example/api/v2', AIRFLOW_UI_URL: 'https://v:ui-pw@ui.example/' }, none)).toEqual({
      baseUrl: 'https://af.example',
      apiVersion: 'v2',
      username: 'ci',
      password: 'p@ss',
      uiUrl: 'https://ui.example',
      secrets: ['p@ss', 'p%40ss', 'ui-pw'],
      warnings: ['AIRFLOW_UI_URL carries a user and password: left out of every link (https://ui.example); a UI link needs none'],
    });
    expect(() => resolveConnection({ AIRFLOW_API_URL: 'https://ci:pw@af.example' }, config)).toThrow(
      "AIRFLOW_API_URL 'https://af.example' carries a user and password and AIRFLOW_USERNAME/AIRFLOW_PASSWORD (or the config's username/password) are set too: keep one",
    );
    expect(() => resolveConnection({ AIRFLOW_API_URL: 'ftp://ci:pw@af.example' }, none)).toThrow("AIRFLOW_API_URL 'ftp://af.example' must be an http(s) URL");
  });
});

describe('failure details', () => {
  const events = [
    { event: '::group::Pre Execute', level: 'info' },
    { event: 'Traceback (most recent call last):', level: 'info' },
    { event: '  File "/x/tiny_runner.py", line 20, in build_all', level: 'info' },
    { event: 'RuntimeError: the model diverged', level: 'info' },
    { event: 'Command exited with return code 1', level: 'info' },
    { event: 'Task failed with exception', level: 'error', error_detail: [{ exc_type: 'AirflowException', exc_value: 'Bash command failed. The command returned a non-zero exit code 1.' }] },
  ];
  it('reads the recorded exception, the runner\'s own exception line and the log tail', () => {
    expect(exceptionOf(events)).toBe('AirflowException: Bash command failed. The command returned a non-zero exit code 1.');
    expect(logTail(events, 3)).toEqual(['Traceback (most recent call last):', '  File "/x/tiny_runner.py", line 20, in build_all', 'RuntimeError: the model diverged']);
    expect(lastException(logTail(events, 100))).toBe('RuntimeError: the model diverged');
  });
  it('with a chain of causes, the first entry that says why: not an operator\'s bare failure, not a cause under the reason', () => {
    // The error_detail of a real DockerOperator run asking for a GPU this engine has not (Airflow 3.3.2, provider 4.6.1), shortened.
    const url = 'http+docker://localhost/v1.41/containers/02e4f4d535ab/start';
    const chained = {
      event: 'Task failed with exception',
      level: 'error',
      error_detail: [
        { exc_type: 'APIError', exc_value: `500 Server Error for ${url}: Internal Server Error ("could not select device driver "" with capabilities: [[gpu]]")`, is_cause: false },
        { exc_type: 'HTTPError', exc_value: `500 Server Error: Internal Server Error for url: ${url}`, is_cause: true },
      ],
    };
    expect(exceptionOf([chained])).toBe(`APIError: 500 Server Error for ${url}: Internal Server Error ("could not select device driver "" with capabilities: [[gpu]]")`);
    // KubernetesPodOperator (provider 10.25.0, a real run): its bare "returned a failure" first, the reason after it.
    const kpo = {
      event: 'Task failed with exception',
      level: 'error',
      error_detail: [
        { exc_type: 'AirflowException', exc_value: 'Pod kpo-nopull-5ef6c6-2frkiniu returned a failure.', is_cause: false },
        { exc_type: 'PodLaunchFailedException', exc_value: 'Image cannot be pulled, unable to start: ErrImagePull', is_cause: false },
      ],
    };
    expect(exceptionOf([kpo])).toBe('PodLaunchFailedException: Image cannot be pulled, unable to start: ErrImagePull');
    // Nothing but the bare failure: that one (the runner's own exception line is then read from the log).
    expect(exceptionOf([{ ...kpo, error_detail: kpo.error_detail.slice(0, 1) }])).toBe('AirflowException: Pod kpo-nopull-5ef6c6-2frkiniu returned a failure.');
  });
  it("KubernetesPodOperator: the runner's exception, the container's exit code and its own last lines, not the pod's status dump", async () => {
    // The task log of a real failed run (provider 10.25.0), shortened.
    const kpo = [
      'Waiting 60s to get the POD running...',
      'Pod has reached Failed phase before launch timeout',
      '::endgroup::',
      '[base] pod runner: about to fail',
      '[base] Traceback (most recent call last):',
      '[base]   File "/opt/prefect/./pod_runner.py", line 12, in build_all',
      '[base]     raise RuntimeError("the model diverged: %s" % greeting)',
      '[base] RuntimeError: the model diverged: boom\n',
      'Pod phase: Failed, reason: None',
      "Container 'base': state='TERMINATED', reason='Error', exit_code=1, message='None'",
      'Pod Event: Started - Container started',
      'Deleting pod: kpo-fail-lmm0rxjy',
    ].map((event) => ({ event, level: 'info' }));
    kpo.push({ event: 'Task failed with exception', level: 'error', error_detail: [{ exc_type: 'AirflowException', exc_value: 'Pod kpo-fail-lmm0rxjy returned a failure.' }] } as never);
    const api = { taskInstances: async () => [{ task_id: 'build_all', state: 'failed', try_number: 1 }], taskLog: async () => kpo } as unknown as AirflowApi;
    expect(await failureDetail(api, 'd', 'r')).toBe(
      [
        'task build_all failed: RuntimeError: the model diverged: boom (exit code 1)',
        'Last log lines of build_all:',
        '  pod runner: about to fail',
        '  Traceback (most recent call last):',
        '    File "/opt/prefect/./pod_runner.py", line 12, in build_all',
        '      raise RuntimeError("the model diverged: %s" % greeting)',
        '  RuntimeError: the model diverged: boom',
      ].join('\n'),
    );
  });

  it('puts an import error in one line with where it was raised', () => {
    const trace = 'Traceback (most recent call last):\n  File "/dags/d/d.py", line 6, in <module>\n    from x import y\nModuleNotFoundError: No module named \'x\'\n';
    expect(importProblem(trace)).toBe('ModuleNotFoundError: No module named \'x\' (at File "/dags/d/d.py", line 6, in <module>)');
  });
});
