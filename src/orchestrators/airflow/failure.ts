import type { AirflowApi, LogEvent } from './api.js';

/** How many log lines the error of a failed run quotes. */
const TAIL_LINES = 8;

/**
 * Why a run failed, for the error a user sees: the failed task, the exception Airflow
 * recorded for it, and the last lines of its log (the runner's own output, where a
 * lolpop traceback ends). Best effort: the run's state is the fact, this is the story.
 */
export async function failureDetail(api: AirflowApi, dagId: string, runId: string): Promise<string> {
  try {
    const tasks = await api.taskInstances(dagId, runId);
    const failed = tasks.find((t) => t.state === 'failed');
    if (!failed) {
      const states = tasks.map((t) => `${t.task_id}=${t.state ?? 'none'}`).join(', ') || 'none';
      return `no task failed (tasks: ${states}); a run failed without a failed task points at Airflow itself (e.g. a worker that cannot reach [api] base_url): see the scheduler's log`;
    }
    const events = await api.taskLog(dagId, runId, failed.task_id, Math.max(1, failed.try_number));
    const lines = logTail(events, 200);
    // A KubernetesPodOperator logs the container's lines prefixed with its name, then the
    // pod's status and events: the runner's own lines are the tail that tells the story.
    const container = lines.filter((l) => l.startsWith(POD_CONTAINER_PREFIX)).map((l) => l.slice(POD_CONTAINER_PREFIX.length));
    const story = container.length > 0 ? container : lines;
    const tail = story.slice(-TAIL_LINES);
    // A BashOperator's, DockerOperator's or KubernetesPodOperator's own exception only says
    // the command, container or pod failed: the runner's traceback ends with the one that matters.
    const recorded = exceptionOf(events);
    const raised = lastException(story);
    const exception = raised && (!recorded || OPERATOR_FAILURE.test(recorded)) ? `${raised}${exitCode(recorded, lines)}` : recorded;
    return (
      `task ${failed.task_id} failed${exception ? `: ${exception}` : ''}` +
      (tail.length > 0 ? `\nLast log lines of ${failed.task_id}:\n${tail.map((l) => `  ${l}`).join('\n')}` : '')
    );
  } catch (error) {
    return `(could not read the failed task's log: ${(error as Error).message})`;
  }
}

/** What BashOperator, DockerOperator and KubernetesPodOperator raise when the runner exits non-zero. */
const OPERATOR_FAILURE = /^(AirflowException: Bash command failed|DockerContainerFailedException: Docker container failed|AirflowException: Pod \S+ returned a failure)/;

/** How KubernetesPodOperator prefixes the lines of the task's container (named base) in the task log. */
const POD_CONTAINER_PREFIX = '[base] ';

/**
 * `RuntimeError: boom` from the last event with error_detail. Its entries are a chain,
 * outermost first (structlog's): the exception the task failed with, then what it was raised
 * from or while handling. The first that is not an operator's bare "it failed" says why:
 * KubernetesPodOperator's "Pod … returned a failure" hides the PodLaunchFailedException
 * after it ("Image cannot be pulled …"), while docker-py's APIError, which quotes the
 * engine's reason, comes before the bare requests HTTPError it was raised from.
 */
export function exceptionOf(events: readonly LogEvent[]): string | undefined {
  for (const event of [...events].reverse()) {
    const chain = (event.error_detail ?? []).map((detail) => [detail.exc_type, detail.exc_value].filter(Boolean).join(': '));
    if (chain.length > 0) return chain.find((line) => !OPERATOR_FAILURE.test(line)) ?? chain[0];
  }
  return undefined;
}

/** The last Python exception line (`ValueError: …`) of a log, if there is one. */
export function lastException(lines: readonly string[]): string | undefined {
  return [...lines].reverse().find((l) => /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)(: .*)?$/.test(l.trim()))?.trim();
}

function exitCode(recorded: string | undefined, lines: readonly string[]): string {
  // Bash: "… returned a non-zero exit code 1."; Docker: "… {'Error': None, 'StatusCode': 1}";
  // KubernetesPodOperator: the pod's status line "Container 'base': state='TERMINATED', reason='Error', exit_code=1, …".
  const code =
    /(?:exit code |'StatusCode': )(\d+)/.exec(recorded ?? '')?.[1] ??
    lines.map((l) => /^Container 'base': state='TERMINATED'.*\bexit_code=(\d+)/.exec(l)?.[1]).find(Boolean);
  return code ? ` (exit code ${code})` : '';
}

/** The last `count` non-empty lines of the log's text, without Airflow's group markers. */
export function logTail(events: readonly LogEvent[], count: number): string[] {
  const lines: string[] = [];
  for (const event of events) {
    if (event.error_detail) continue;
    for (const line of (event.event ?? '').split('\n')) {
      const text = line.trimEnd();
      if (text.trim() === '' || /^::(end)?group::/.test(text.trim()) || /^Command exited with return code \d+$/.test(text.trim())) continue;
      lines.push(text);
    }
  }
  return lines.slice(-count);
}
