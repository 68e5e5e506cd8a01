import * as core from '@actions/core';
import { readCiContext, type CiContext } from './ci-context.js';
import { loadConfig } from './config/load.js';
import { CoreLogger } from './core-logger.js';
import { describeError, UserError } from './errors.js';
import { createGitHubClient } from './github/client.js';
import { commentOnPullRequest } from './github/pr-comment.js';
import { readInputs, type ActionSettings } from './inputs.js';
import { orchestratorLookup } from './orchestrators/registry.js';
import { setCommentUrl, setOutputs } from './outputs.js';
import type { PipelineResult } from './pipeline.js';
import { previewPlan, type Plan } from './preview.js';
import { runConfig } from './run-config.js';
import { renderComment, renderReport, type ReportInput } from './report/render.js';

/** The action: inputs → config → pipeline → outputs, PR comment, summary; the only setFailed. */
export async function run(): Promise<void> {
  const logger = new CoreLogger();
  const ci = readCiContext(process.env);
  let settings: ActionSettings | undefined;
  let plan: Plan | undefined;
  let result: PipelineResult | undefined;
  let failure: unknown;
  try {
    settings = readInputs();
    logger.addSecret(settings.githubToken);
    if (settings.registry) logger.addSecret(settings.registry.password);
    plan = previewPlan(settings, ci);
    if (plan.note) logger.info(plan.note);
    const config = loadConfig(settings.configFile, plan.overrides, orchestratorLookup, process.env);
    result = await runConfig(config, plan.steps, {
      logger,
      env: process.env,
      ci,
      registry: settings.registry,
      workdir: settings.workingDirectory,
    });
    failure = result.error;
  } catch (error) {
    failure = error;
  }
  setOutputs(result);
  const report: ReportInput = { result, error: failure, ci, notes: plan?.steps.length === 0 && plan.note ? [plan.note] : [], preview: plan?.preview };
  if (settings && result) {
    const commentFailure = await comment(settings, ci, report, result, logger);
    failure ??= commentFailure;
  } else if (settings && settings.comment !== 'never') {
    core.info('No PR comment: the config could not be read (the job summary has the error)');
  }
  if (settings?.summary ?? true) {
    try {
      await core.summary.addRaw(logger.redact(renderReport(report))).write();
    } catch (error) {
      core.warning(`Failed to write the job summary: ${describeError(error)}`);
    }
  }
  if (failure) {
    // A UserError says all there is to say; anything else is a bug worth its stack.
    if (!(failure instanceof UserError)) core.debug(failure instanceof Error ? (failure.stack ?? '') : String(failure));
    core.setFailed(describeError(failure));
  }
}

/**
 * The sticky PR comment. A comment that cannot be written never fails a deployment
 * (a notice says why, and the summary is still written) unless `comment: always`
 * asked for it: then the failure is returned, to fail the step after the summary.
 */
async function comment(settings: ActionSettings, ci: CiContext, report: ReportInput, result: PipelineResult, logger: CoreLogger): Promise<Error | undefined> {
  const key = result.deploymentName;
  const body = logger.redact(renderComment(report));
  const token = settings.githubToken;
  let problem: string | undefined;
  let unexpected = false;
  try {
    const client = () => {
      if (!token) throw new UserError('the github-token input is empty');
      return createGitHubClient(token, ci.apiUrl, logger);
    };
    const outcome = await commentOnPullRequest(client, { mode: settings.comment, ci, key, body }, logger);
    if (outcome.status === 'written') {
      setCommentUrl(outcome.url);
      core.info(`PR comment ${outcome.action} on #${outcome.pullRequest}: ${outcome.url}`);
      report.notes!.push(`[PR comment](${outcome.url}) ${outcome.action} on pull request #${outcome.pullRequest}.`);
    } else if (outcome.status === 'none') {
      core.info(`No PR comment: ${outcome.reason}`);
      if (settings.comment === 'always') problem = `No PR comment: ${outcome.reason} (comment: always)`;
    } else {
      problem = outcome.reason;
    }
  } catch (error) {
    problem = `Failed to write the PR comment: ${describeError(error)}`;
    unexpected = true;
  }
  if (!problem) return undefined;
  report.notes!.push(problem);
  if (settings.comment === 'always') return new UserError(problem);
  // A known refusal (fork, read-only token) is a notice; anything else deserves a warning.
  if (unexpected) core.warning(problem);
  else core.notice(problem);
  return undefined;
}
