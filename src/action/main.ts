import * as core from '@actions/core';
import { readCiContext } from '../ci-context.js';
import { loadConfig } from '../config/load.js';
import { ConfigError, describeError, UserError } from '../errors.js';
import type { RunResult } from '../orchestrators/orchestrator.js';
import { orchestratorLookup } from '../orchestrators/registry.js';
import type { PipelineHooks, PipelineResult } from '../pipeline.js';
import { runConfig } from '../run-config.js';
import { CommentWriter } from './comment.js';
import { failStep, writeSummary } from './conclude.js';
import { CoreLogger } from './core-logger.js';
import { readInputs, type ActionSettings } from './inputs.js';
import { cancelWith, JobCancellation } from './job-cancel.js';
import { setOutputs } from './outputs.js';
import { previewPlan, type Plan } from './preview.js';
import { renderComment, renderReport, type ReportInput } from './report/render.js';
import { runWorkflows } from './workflows.js';

/**
 * The action's entry: never throws. Anything that escapes `runAction` is a bug, and
 * still ends as one ::error:: line (its stack at debug level), not a crash.
 */
export async function run(): Promise<void> {
  const cancellation = new JobCancellation();
  try {
    await runAction(cancellation);
  } catch (error) {
    core.debug(error instanceof Error ? (error.stack ?? error.message) : String(error));
    core.setFailed(`lolpop-deploy failed unexpectedly: ${describeError(error)}`);
  } finally {
    cancellation.finished();
  }
}

/** The action: inputs → config → pipeline → outputs, PR comment, summary; the only setFailed. */
async function runAction(cancellation: JobCancellation): Promise<void> {
  const logger = new CoreLogger();
  const ci = readCiContext(process.env);
  let settings: ActionSettings | undefined;
  let plan: Plan | undefined;
  let result: PipelineResult | undefined;
  let failure: unknown;
  let comments: CommentWriter | undefined;
  try {
    settings = readInputs();
    logger.addSecret(settings.githubToken);
    if (settings.registry) logger.addSecret(settings.registry.password);
    if (ci.eventProblem) throw new ConfigError(ci.eventProblem);
    plan = previewPlan(settings, ci);
    if (plan.note) logger.info(plan.note);
    comments = new CommentWriter(settings, ci, logger);
    if (settings.cancelOnJobCancel) cancellation.enable(cancelWith(settings, plan, ci, logger), logger);
    // Several config files: one workflow each, run side by side (their own report).
    if (settings.configFiles.length > 1) return await runWorkflows(settings, plan, ci, logger, comments, cancellation);
    const config = await loadConfig(settings.configFiles[0]!, plan.overrides, orchestratorLookup, process.env, settings.workingDirectory);
    const onRunStarted = (run: RunResult) => cancellation.started(config.file, config.deployment.name, config.orchestrator, run);
    result = await runConfig(config, plan.steps, {
      logger,
      env: process.env,
      ci,
      registry: settings.registry,
      workdir: settings.workingDirectory,
      hooks: { ...progressHooks(comments, ci, plan.preview, (value) => logger.redact(value)), onRunStarted },
    });
    failure = result.error;
  } catch (error) {
    failure = error;
  }
  try {
    // Outputs leave the job: they pass the same redaction as the summary and the comment.
    setOutputs(result, (value) => logger.redact(value));
  } catch (error) {
    failure ??= new UserError(`Failed to write the step outputs (GITHUB_OUTPUT): ${describeError(error)}`);
  }
  const redact = (value: string) => logger.redact(value);
  const report: ReportInput = { result, error: failure, ci, notes: plan?.steps.length === 0 && plan.note ? [plan.note] : [], preview: plan?.preview, redact };
  if (settings && comments && result) {
    // Written whatever happened (not `failure ??= await …`, which would skip it on a failure).
    const commentFailure = await comments.final(result.deploymentName, renderComment(report), report.notes!);
    failure ??= commentFailure;
  } else if (settings && settings.comment !== 'never') {
    core.info('No PR comment: the config could not be read (the job summary has the error)');
  }
  await writeSummary(renderReport(report), settings?.summary ?? true, logger);
  if (failure) failStep(failure, ci, logger);
}

/**
 * The comment while the steps run: written when the first step starts and when the
 * wait starts (the run's link is known by then); the final comment replaces it.
 */
function progressHooks(comments: CommentWriter, ci: ReportInput['ci'], preview: Plan['preview'], redact: ReportInput['redact']): PipelineHooks {
  let first = true;
  return {
    onStepStart: async (progress) => {
      const step = progress.steps.find((s) => s.status === 'running')?.step;
      if (!(first || step === 'wait')) return;
      first = false;
      await comments.progress(progress.deploymentName, renderComment({ result: progress, ci, preview, redact }), `before ${step}`);
    },
  };
}
