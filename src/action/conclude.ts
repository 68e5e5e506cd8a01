import * as core from '@actions/core';
import path from 'node:path';
import type { CiContext } from '../ci-context.js';
import { ConfigError, describeError, UserError } from '../errors.js';
import type { CoreLogger } from './core-logger.js';

/** The job summary, redacted; a summary that cannot be written is a warning, not a failure. */
export async function writeSummary(markdown: string, enabled: boolean, logger: CoreLogger): Promise<void> {
  if (!enabled) return;
  try {
    await core.summary.addRaw(logger.redact(markdown)).write();
  } catch (error) {
    core.warning(logger.redact(`Failed to write the job summary: ${describeError(error)}`));
  }
}

/**
 * Fails the step with one line: a config error as one annotation per place, on the
 * file in the PR's diff; anything else with setFailed. Not a UserError: a bug, whose
 * stack goes to the debug log.
 */
export function failStep(failure: unknown, ci: CiContext, logger: CoreLogger): void {
  if (!(failure instanceof UserError)) core.debug(failure instanceof Error ? (failure.stack ?? '') : String(failure));
  const located = failure instanceof ConfigError ? failure.locations : [];
  if (located.length === 0) {
    core.setFailed(logger.redact(describeError(failure)));
    return;
  }
  for (const at of located) {
    core.error(logger.redact(at.message), { file: repositoryPath(at.file, ci), startLine: at.line, startColumn: at.col, title: 'lolpop-deploy config' });
  }
  process.exitCode = core.ExitCode.Failure;
}

/** Annotations name files relative to the checkout (GITHUB_WORKSPACE), not to the working directory. */
function repositoryPath(file: string, ci: CiContext): string {
  const root = ci.workspace || process.cwd();
  const relative = path.relative(root, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}
