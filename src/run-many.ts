import { describeError } from './errors.js';
import type { PipelineResult } from './pipeline.js';

/** One workflow of a multi-workflow run: its config file, and how it ended. */
export interface WorkflowOutcome {
  file: string;
  /** The deployment name, once its config loaded. */
  name?: string;
  result?: PipelineResult;
  /** A failure before or inside the pipeline (a config error, a failed step). */
  error?: Error;
  /** Why it was not deployed (changed-only: "unchanged since 1a2b3c4"); its status is then `skipped`. */
  skipped?: string;
  /** not-started: fail-fast stopped the run before this workflow began. */
  status: 'succeeded' | 'failed' | 'skipped' | 'not-started';
}

export interface RunManyOptions {
  /** How many workflows run at once (at least 1). */
  maxParallel: number;
  /** After the first failure, start no other workflow (those running finish). */
  failFast: boolean;
}

/**
 * Runs one workflow per file with bounded concurrency. A failure in one is recorded
 * and does not stop the others unless `failFast`; the outcomes come back in the
 * order of `files`, whatever order they finished in. Never throws.
 */
export async function runMany(
  files: readonly string[],
  options: RunManyOptions,
  runOne: (file: string, outcome: WorkflowOutcome) => Promise<void>,
): Promise<WorkflowOutcome[]> {
  const outcomes: WorkflowOutcome[] = files.map((file) => ({ file, status: 'not-started' }));
  let next = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop && next < files.length) {
      const outcome = outcomes[next++]!;
      try {
        await runOne(outcome.file, outcome);
        outcome.error ??= outcome.result?.error;
      } catch (error) {
        outcome.error = error instanceof Error ? error : new Error(describeError(error));
      }
      outcome.status = outcome.error ? 'failed' : outcome.skipped ? 'skipped' : 'succeeded';
      if (outcome.error && options.failFast) stop = true;
    }
  };
  const workers = Math.max(1, Math.min(options.maxParallel, files.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return outcomes;
}
