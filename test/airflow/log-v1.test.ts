import { describe, expect, it } from 'vitest';
import { failureDetail, logTail } from '../../src/orchestrators/airflow/failure.js';
import { airflow2LogEvents } from '../../src/orchestrators/airflow/log-v1.js';
import type { AirflowApi } from '../../src/orchestrators/airflow/api.js';

// The shape of a failed BashOperator task's log as Airflow 2.10.5 serves it (text/plain).
const LOG = `[2026-12-01T13:09:07.415+0000] {taskinstance.py:2890} INFO - Executing <Task(BashOperator): build_all> on 2026-12-01 13:09:05+00:00
[2026-12-01T13:09:07.500+0000] {subprocess.py:78} INFO - Tmp dir root location: /tmp
[2026-12-01T13:09:07.513+0000] {subprocess.py:99} INFO - Output:
[2026-12-01T13:09:07.548+0000] {subprocess.py:106} INFO - tiny runner: boom from workflow
[2026-12-01T13:09:07.549+0000] {subprocess.py:106} INFO - Traceback (most recent call last):
[2026-12-01T13:09:07.549+0000] {subprocess.py:106} INFO -   File "/dags/t/releases/f/workflow/tiny_runner.py", line 20, in build_all
[2026-12-01T13:09:07.549+0000] {subprocess.py:106} INFO - RuntimeError: the model diverged: boom
[2026-12-01T13:09:07.556+0000] {subprocess.py:110} INFO - Command exited with return code 1
[2026-12-01T13:09:07.560+0000] {taskinstance.py:3313} ERROR - Task failed with exception
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/airflow/operators/bash.py", line 276, in execute
    raise AirflowException(
airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code 1.
[2026-12-01T13:09:07.573+0000] {taskinstance.py:353} INFO - Marking task as FAILED. dag_id=t, task_id=build_all
[2026-12-01T13:09:07.594+0000] {local_task_job_runner.py:266} INFO - Task exited with return code 1
`;

describe("Airflow 2's plain-text task log", () => {
  it("keeps what the task's command printed and turns Airflow's traceback into the task's exception", () => {
    const events = airflow2LogEvents(LOG);
    expect(logTail(events, 3)).toEqual(['Traceback (most recent call last):', '  File "/dags/t/releases/f/workflow/tiny_runner.py", line 20, in build_all', 'RuntimeError: the model diverged: boom']);
    expect(events.at(-1)).toEqual({
      event: 'Task failed with exception',
      error_detail: [{ exc_type: 'AirflowException', exc_value: 'Bash command failed. The command returned a non-zero exit code 1.' }],
    });
  });

  it('gives the failure detail the runner\'s exception, not the operator\'s', async () => {
    const api = {
      taskInstances: async () => [{ task_id: 'build_all', state: 'failed', try_number: 1 }],
      taskLog: async () => airflow2LogEvents(LOG),
    } as unknown as AirflowApi;
    expect(await failureDetail(api, 't', 'r')).toMatch(/^task build_all failed: RuntimeError: the model diverged: boom \(exit code 1\)\nLast log lines of build_all:\n/);
  });
});
