import * as core from '@actions/core';
import { describeError } from '../errors.js';
import { runAndFinish } from '../run-workflows.js';
import { CoreLogger } from './core-logger.js';
import { JobCancellation } from './job-cancel.js';
import { ActionShell } from './shell.js';

/**
 * The action's entry: never throws. Anything that escapes the run is a bug, and
 * still ends as one ::error:: line (its stack at debug level), not a crash.
 */
export async function run(): Promise<void> {
  // Created first: a signal that arrives while a run is in flight cancels it (job-cancel.ts).
  const cancellation = new JobCancellation();
  try {
    await runAndFinish(new ActionShell(new CoreLogger(), process.env, cancellation));
  } catch (error) {
    core.debug(error instanceof Error ? (error.stack ?? error.message) : String(error));
    core.setFailed(`lolpop-deploy failed unexpectedly: ${describeError(error)}`);
  } finally {
    cancellation.finished();
  }
}
