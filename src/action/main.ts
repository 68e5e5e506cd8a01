import * as core from '@actions/core';
import path from 'node:path';
import { readCiContext, type CiContext } from '../ci-context.js';
import { loadConfig } from '../config/load.js';
import { CoreLogger } from './core-logger.js';
import { ConfigError, describeError, UserError } from '../errors.js';
import { createGitHubClient, type GitHubClient } from './github/client.js';
import { commentOnPullRequest, type CommentRequest } from './github/pr-comment.js';
import { findPullRequest, type PullRequestTarget } from './github/pull-request.js';
import { readInputs, type ActionSettings } from './inputs.js';
import { orchestratorLookup } from '../orchestrators/registry.js';
import { setCommentUrl, setOutputs } from './outputs.js';
import type { PipelineHooks, PipelineResult } from '../pipeline.js';
import { previewPlan, type Plan } from './preview.js';
import { runConfig } from '../run-config.js';
import { renderComment, renderReport, type ReportInput } from './report/render.js';

/**
 * The action's entry: never throws. Anything that escapes `runAction` is a bug, and
 * still ends as one ::error:: line (its stack at debug level), not a crash.
 */
export async function run(): Promise<void> {
  try {
    await runAction();
  } catch (error) {
    core.debug(error instanceof Error ? (error.stack ?? error.message) : String(error));
    core.setFailed(`lolpop-deploy failed unexpectedly: ${describeError(error)}`);
  }
}

/** The action: inputs → config → pipeline → outputs, PR comment, summary; the only setFailed. */
async function runAction(): Promise<void> {
  const logger = new CoreLogger();
  const ci = readCiContext(process.env);
  let settings: ActionSettings | undefined;
  let plan: Plan | undefined;
  let result: PipelineResult | undefined;
  let failure: unknown;
  let progress: ProgressComment | undefined;
  // One look-up of the pull request for every comment write of this run.
  let target: Promise<PullRequestTarget | undefined> | undefined;
  const findTarget = (client: GitHubClient) => (target ??= findPullRequest(client, ci));
  try {
    settings = readInputs();
    logger.addSecret(settings.githubToken);
    if (settings.registry) logger.addSecret(settings.registry.password);
    if (ci.eventProblem) throw new ConfigError(ci.eventProblem);
    plan = previewPlan(settings, ci);
    if (plan.note) logger.info(plan.note);
    const config = loadConfig(settings.configFile, plan.overrides, orchestratorLookup, process.env);
    progress = progressComment(settings, ci, plan.preview, logger, findTarget);
    result = await runConfig(config, plan.steps, {
      logger,
      env: process.env,
      ci,
      registry: settings.registry,
      workdir: settings.workingDirectory,
      hooks: progress?.hooks,
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
  const report: ReportInput = { result, error: failure, ci, notes: plan?.steps.length === 0 && plan.note ? [plan.note] : [], preview: plan?.preview };
  if (settings && result) {
    const commentFailure = await comment(settings, ci, report, result, logger, progress?.created() ?? false, findTarget);
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
    const located = failure instanceof ConfigError ? failure.locations : [];
    if (located.length === 0) {
      core.setFailed(describeError(failure));
    } else {
      // One annotation per place, on the file in the PR's diff (paths relative to the repository).
      for (const at of located) {
        core.error(at.message, { file: repositoryPath(at.file, ci), startLine: at.line, startColumn: at.col, title: 'lolpop-deploy config' });
      }
      process.exitCode = core.ExitCode.Failure;
    }
  }
}

/** Annotations name files relative to the checkout (GITHUB_WORKSPACE), not to the working directory. */
function repositoryPath(file: string, ci: CiContext): string {
  const root = ci.workspace || process.cwd();
  const relative = path.relative(root, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}

/**
 * Keeps the PR comment current while the steps run, so that the previous push's ✅
 * does not stand during a long build or wait: written when the first step starts and
 * when the wait starts (the run's link is known by then). The final comment replaces
 * it. Best effort: the first write that does not succeed ends the progress updates,
 * and the final comment reports why.
 */
interface ProgressComment {
  hooks: PipelineHooks;
  /** Whether a progress write created the comment (the final write then updates it). */
  created(): boolean;
}

function progressComment(
  settings: ActionSettings,
  ci: CiContext,
  preview: Plan['preview'],
  logger: CoreLogger,
  findTarget: CommentRequest['findTarget'],
): ProgressComment | undefined {
  if (settings.comment === 'never' || !settings.githubToken) return undefined;
  let enabled = true;
  let first = true;
  let created = false;
  const hooks: PipelineHooks = {
    onStepStart: async (progress) => {
      const step = progress.steps.find((s) => s.status === 'running')?.step;
      if (!enabled || !(first || step === 'wait')) return;
      first = false;
      const body = logger.redact(renderComment({ result: progress, ci, preview }));
      const client = () => createGitHubClient(settings.githubToken, ci.apiUrl, logger);
      enabled = false; // until this write succeeds (a throw reaches the pipeline's warning)
      const outcome = await commentOnPullRequest(client, { mode: settings.comment, ci, key: progress.deploymentName, body, findTarget }, logger);
      if (outcome.status !== 'written') return;
      enabled = true;
      created ||= outcome.action === 'created';
      logger.debug(`PR comment ${outcome.action} with the progress before ${step}: ${outcome.url}`);
    },
  };
  return { hooks, created: () => created };
}

/**
 * The sticky PR comment. A comment that cannot be written never fails a deployment
 * (a notice says why, and the summary is still written) unless `comment: always`
 * asked for it: then the failure is returned, to fail the step after the summary.
 */
async function comment(
  settings: ActionSettings,
  ci: CiContext,
  report: ReportInput,
  result: PipelineResult,
  logger: CoreLogger,
  createdByThisRun: boolean,
  findTarget: CommentRequest['findTarget'],
): Promise<Error | undefined> {
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
    const outcome = await commentOnPullRequest(client, { mode: settings.comment, ci, key, body, findTarget }, logger);
    if (outcome.status === 'written') {
      setCommentUrl(outcome.url);
      // Created by this run's progress write, then completed: to a reader, this run created it.
      const action = createdByThisRun ? 'created' : outcome.action;
      core.info(`PR comment ${action} on #${outcome.pullRequest}: ${outcome.url}`);
      report.notes!.push(`[PR comment](${outcome.url}) ${action} on pull request #${outcome.pullRequest}.`);
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
