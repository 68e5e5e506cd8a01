import * as core from '@actions/core';
import { readCiContext } from '../ci-context.js';
import { describeError, UserError } from '../errors.js';
import type { CancelResult } from '../orchestrators/orchestrator.js';
import { runNounOf } from '../orchestrators/registry.js';
import type { PipelineResult } from '../pipeline.js';
import type { WorkflowOutcome } from '../run-many.js';
import { CommentWriter } from './comment.js';
import { writeSummary } from './conclude.js';
import { CoreLogger } from './core-logger.js';
import { readInputs } from './inputs.js';
import { cancelWith, unfinishedRuns, type StartedRun } from './job-cancel.js';
import { decidePreview } from './preview.js';
import { COMMENT_LIMIT, renderComment, renderReport, renderWorkflows, SUMMARY_LIMIT } from './report/render.js';

/**
 * The action's post step (action.yml `post`, run whatever happened): when the main step
 * did not finish (the job was cancelled, timed out, or the step was killed) the runs it
 * started are cancelled on their orchestrator and waited for, and the summary and the
 * PR comment say "cancelled". When it finished, nothing. Never throws.
 */
export async function post(): Promise<void> {
  try {
    await cancelUnfinished();
  } catch (error) {
    core.setFailed(`lolpop-deploy (post) failed: ${describeError(error)}`);
  }
}

async function cancelUnfinished(): Promise<void> {
  const runs = unfinishedRuns();
  if (runs.length === 0) {
    core.info('lolpop-deploy: the step ended by itself: no run to cancel');
    return;
  }
  const logger = new CoreLogger();
  const ci = readCiContext(process.env);
  const settings = readInputs();
  logger.addSecret(settings.githubToken);
  if (settings.registry) logger.addSecret(settings.registry.password);
  const plan = decidePreview(settings, ci);
  const cancel = cancelWith(settings, plan, ci, logger);
  const results: PipelineResult[] = [];
  let failed = 0;
  for (const started of runs) {
    let outcome: CancelResult | Error;
    try {
      outcome = await cancel(started, true);
      logger.info(`${started.name}: ${outcome.detail}`);
    } catch (error) {
      failed += 1;
      outcome = new UserError(`could not cancel run ${started.run.id}: ${describeError(error)}`);
      logger.error(outcome.message);
    }
    results.push(cancelledResult(started, outcome));
  }
  const redact = (value: string) => logger.redact(value);
  const comments = new CommentWriter(settings, ci, logger);
  if (settings.configFiles.length > 1) {
    const outcomes = results.map((result, i): WorkflowOutcome => ({ file: runs[i]!.config, name: result.deploymentName, result, error: result.error, status: 'failed' }));
    const report = (limit: number) => renderWorkflows({ outcomes, ci, preview: plan.preview, workdir: settings.workingDirectory, redact }, limit);
    await comments.final(`workflows:${settings.configInput}`, report(COMMENT_LIMIT), []);
    await writeSummary(report(SUMMARY_LIMIT), settings.summary, logger);
  } else {
    const input = { result: results[0]!, ci, preview: plan.preview, redact };
    await comments.final(results[0]!.deploymentName, renderComment(input), []);
    await writeSummary(renderReport(input), settings.summary, logger);
  }
  if (failed > 0) core.setFailed(`lolpop-deploy: ${failed} of ${runs.length} run(s) could not be cancelled (see above)`);
}

/** A started run's report once cancelled: its run row failed with "cancelled", its state as the orchestrator left it. */
function cancelledResult(started: StartedRun, outcome: CancelResult | Error): PipelineResult {
  const detail = outcome instanceof Error ? outcome.message : `cancelled: ${outcome.detail}`;
  return {
    orchestrator: started.orchestrator,
    runNoun: runNounOf(started.orchestrator),
    deploymentName: started.name,
    steps: [{ step: 'run', status: 'failed', durationMs: 0, detail }],
    run: { ...started.run, state: outcome instanceof Error ? started.run.state : outcome.state },
    error: outcome instanceof Error ? outcome : new UserError(`cancelled: the job was cancelled while run ${started.run.id} of ${started.name} was in flight; ${outcome.detail}`),
  };
}
