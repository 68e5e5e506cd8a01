import type { CiContext } from '../ci-context.js';
import { loadConfig } from '../config/load.js';
import { ConfigError, describeError, UserError } from '../errors.js';
import { PrefixedLogger } from '../logger.js';
import { orchestratorLookup } from '../orchestrators/registry.js';
import { runConfig } from '../run-config.js';
import { runMany, type WorkflowOutcome } from '../run-many.js';
import type { CommentWriter } from './comment.js';
import { failStep, writeSummary } from './conclude.js';
import type { CoreLogger } from './core-logger.js';
import type { ActionSettings } from './inputs.js';
import type { JobCancellation } from './job-cancel.js';
import { setResultsOutput } from './outputs.js';
import type { Plan } from './preview.js';
import { renderWorkflows, COMMENT_LIMIT, SUMMARY_LIMIT, type Note } from './report/render.js';

/**
 * Several config files in one step: one workflow each, at most `max-parallel` at once.
 * A failure in one is reported and does not stop the others unless `fail-fast`. One
 * summary and one sticky comment list them all; `results` maps them by name; the step
 * fails when any failed.
 */
export async function runWorkflows(
  settings: ActionSettings,
  plan: Plan,
  ci: CiContext,
  logger: CoreLogger,
  comments: CommentWriter,
  cancellation: JobCancellation,
): Promise<void> {
  if (plan.overrides.deploymentName) {
    throw new UserError(`input deployment-name: ${settings.configFiles.length} config files would all deploy '${plan.overrides.deploymentName}'; name each in its file`);
  }
  // The comment is keyed by the config input: the same step on the next push updates it.
  const key = `workflows:${settings.configInput}`;
  const report = (outcomes: WorkflowOutcome[], limit: number, notes: Note[] = [], inProgress = false) =>
    renderWorkflows({ outcomes, ci, preview: plan.preview, notes, workdir: settings.workingDirectory, inProgress, redact: (value) => logger.redact(value) }, limit);
  const pending = settings.configFiles.map((file): WorkflowOutcome => ({ file, status: 'not-started' }));
  try {
    await comments.progress(key, report(pending, COMMENT_LIMIT, [], true), 'before the workflows start');
  } catch (error) {
    logger.warning(`Could not write the progress comment: ${describeError(error)}`);
  }

  logger.info(`${settings.configFiles.length} workflows, at most ${settings.maxParallel} at once${settings.failFast ? ', fail-fast' : ''}`);
  const shared = new Map<string, unknown>();
  const outcomes = await runMany(settings.configFiles, { maxParallel: settings.maxParallel, failFast: settings.failFast }, async (file, outcome) => {
    const config = await loadConfig(file, plan.overrides, orchestratorLookup, process.env, settings.workingDirectory);
    outcome.name = config.deployment.name;
    outcome.result = await runConfig(config, plan.steps, {
      logger: new PrefixedLogger(logger, config.deployment.name),
      env: process.env,
      ci,
      registry: settings.registry,
      workdir: settings.workingDirectory,
      shared,
      hooks: { onRunStarted: (run) => cancellation.started(config.file, config.deployment.name, config.orchestrator, run) },
    });
  });

  let failure: Error | undefined;
  try {
    setResultsOutput(outcomes, (value) => logger.redact(value));
  } catch (error) {
    failure = new UserError(`Failed to write the step outputs (GITHUB_OUTPUT): ${describeError(error)}`);
  }
  const notes: Note[] = [];
  const commentFailure = await comments.final(key, report(outcomes, COMMENT_LIMIT), notes);
  failure ??= commentFailure;
  await writeSummary(report(outcomes, SUMMARY_LIMIT, notes), settings.summary, logger);
  const failed = outcomes.filter((o) => o.status === 'failed');
  const skipped = outcomes.filter((o) => o.status === 'not-started');
  // One ::error:: per failed workflow (a config error on its file and line), then the total.
  for (const o of failed) {
    failStep(o.error instanceof ConfigError ? o.error : new UserError(`${o.name ?? o.file}: ${describeError(o.error)}`), ci, logger);
  }
  if (failed.length > 0) {
    const names = failed.map((o) => o.name ?? o.file).join(', ');
    failure = new UserError(
      `${failed.length} of ${outcomes.length} workflows failed (${names})${skipped.length > 0 ? `; ${skipped.length} not started (fail-fast)` : ''}`,
    );
  }
  if (failure) failStep(failure, ci, logger);
}
