import type { LogEvent } from './api.js';

// `[2026-12-01T13:07:45.548+0000] {subprocess.py:106} INFO - tiny runner: done`
const LINE = /^\[[^\]]+\] \{([^}:]+):\d+\} ([A-Z]+) - (.*)$/;

/** Where Airflow 2 logs what the task's command printed: BashOperator, DockerOperator. */
const TASK_OUTPUT = new Set(['subprocess.py', 'docker.py']);

/**
 * Airflow 2's plain-text task log as the events failure.ts reads from Airflow 3's
 * structured log: the lines the task's own command printed (Airflow's bookkeeping
 * around them left out), and the exception the task failed with (the last line of the
 * traceback Airflow logs after "Task failed with exception") as its error_detail.
 */
export function airflow2LogEvents(text: string): LogEvent[] {
  const events: LogEvent[] = [];
  let traceback: string[] | undefined;
  const endTraceback = (): void => {
    const last = traceback?.map((l) => l.trim()).filter((l) => l !== '').pop();
    traceback = undefined;
    const match = last ? /^([\w.]+)(?::\s?(.*))?$/.exec(last) : null;
    if (!match) return;
    events.push({ event: 'Task failed with exception', error_detail: [{ exc_type: match[1]!.split('.').pop(), exc_value: match[2] ?? null }] });
  };
  for (const line of text.split('\n')) {
    const parsed = LINE.exec(line);
    if (!parsed) {
      traceback?.push(line);
      continue;
    }
    endTraceback();
    const [, source, level, message] = parsed;
    if (level === 'ERROR' && message!.startsWith('Task failed with exception')) traceback = [];
    else if (TASK_OUTPUT.has(source!)) events.push({ event: message! });
  }
  endTraceback();
  return events;
}
