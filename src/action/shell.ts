import * as core from '@actions/core';
import { readCiContext, type CiContext } from '../ci-context.js';
import { ConfigError, describeError, UserError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { RunResult } from '../orchestrators/orchestrator.js';
import type { PipelineHooks } from '../pipeline.js';
import type { WorkflowOutcome } from '../run-many.js';
import { workflowError, type FinishedRun, type Shell, type WorkflowsRequest } from '../run-workflows.js';
import { CommentWriter } from './comment.js';
import { failStep, writeSummary } from './conclude.js';
import type { CoreLogger } from './core-logger.js';
import { readInputs, type ActionSettings } from './inputs.js';
import { cancelWith, type JobCancellation } from './job-cancel.js';
import { setOutputs, setResultsOutput } from './outputs.js';
import { decidePreview, type PreviewDecision } from './preview.js';
import { COMMENT_LIMIT, renderComment, renderReport, renderWorkflows, SUMMARY_LIMIT, type Note, type ReportInput } from './report/render.js';

/**
 * The action's side of the run (src/run-workflows.ts runs it): inputs → what to run;
 * the sticky PR comment while it runs; outputs, comment, summary and the only setFailed
 * at the end. One config file reports one workflow; several, a list of them (one
 * comment keyed by the config input, the `results` output, one ::error:: each).
 */
export class ActionShell implements Shell<void> {
  readonly ci: CiContext;
  private settings?: ActionSettings;
  private plan?: PreviewDecision;
  private comments?: CommentWriter;

  constructor(
    readonly logger: CoreLogger,
    readonly env: NodeJS.ProcessEnv,
    private readonly cancellation: JobCancellation,
  ) {
    this.ci = readCiContext(env);
  }

  private readonly redact = (value: string): string => this.logger.redact(value);

  request(): WorkflowsRequest {
    const settings = (this.settings = readInputs());
    this.logger.addSecret(settings.githubToken);
    if (settings.registry) this.logger.addSecret(settings.registry.password);
    if (this.ci.eventProblem) throw new ConfigError(this.ci.eventProblem);
    const plan = (this.plan = decidePreview(settings, this.ci));
    if (plan.note) this.logger.info(plan.note);
    this.comments = new CommentWriter(settings, this.ci, this.logger);
    if (settings.cancelOnJobCancel) this.cancellation.enable(cancelWith(settings, plan, this.ci, this.logger), this.logger);
    return {
      files: settings.configFiles,
      steps: plan.steps,
      overrides: plan.overrides,
      maxParallel: settings.maxParallel,
      failFast: settings.failFast,
      workdir: settings.workingDirectory,
      unknownOrchestrator: 'fail',
      registry: settings.registry,
    };
  }

  /**
   * The comment while the steps run: written when the first step starts and when the
   * wait starts (the run's link is known by then); the final comment replaces it.
   */
  progress(): PipelineHooks {
    let first = true;
    return {
      onStepStart: async (progress) => {
        const step = progress.steps.find((s) => s.status === 'running')?.step;
        if (!(first || step === 'wait')) return;
        first = false;
        await this.comments!.progress(progress.deploymentName, renderComment({ result: progress, ci: this.ci, preview: this.plan?.preview, redact: this.redact }), `before ${step}`);
      },
    };
  }

  runStarted(config: LoadedConfig, run: RunResult): void {
    this.cancellation.started(config.file, config.deployment.name, config.orchestrator, run);
  }

  /** Several workflows: the comment lists them all as pending before the first starts. */
  async starting(request: WorkflowsRequest): Promise<void> {
    const pending = request.files.map((file): WorkflowOutcome => ({ file, status: 'not-started' }));
    try {
      await this.comments!.progress(this.workflowsKey(), this.workflowsReport(pending, COMMENT_LIMIT, [], true), 'before the workflows start');
    } catch (error) {
      this.logger.warning(`Could not write the progress comment: ${describeError(error)}`);
    }
  }

  async finish(run: FinishedRun): Promise<void> {
    let failure = run.failure;
    try {
      // Outputs leave the job: they pass the same redaction as the summary and the comment.
      if (run.several) setResultsOutput(run.outcomes, this.redact);
      else setOutputs(run.outcomes[0]?.result, this.redact);
    } catch (error) {
      failure ??= new UserError(`Failed to write the step outputs (GITHUB_OUTPUT): ${describeError(error)}`);
    }
    const notes: Note[] = this.plan?.steps.length === 0 && this.plan.note ? [this.plan.note] : [];
    // The report is of the deployment: a comment that could not be written is a note in it, not its ❌.
    const reported = failure;
    // Written whatever happened (not `failure ??= await …`, which would skip it on a failure).
    const commentFailure = await this.finalComment(run, reported, notes);
    failure ??= commentFailure;
    const summary = run.several
      ? this.workflowsReport(run.outcomes, SUMMARY_LIMIT, notes)
      : renderReport(this.report(run.outcomes[0]?.result, reported, notes));
    await writeSummary(summary, this.settings?.summary ?? true, this.logger);
    // Several: one ::error:: per failed workflow (a config error on its file and line), then the total.
    if (run.several) {
      for (const o of run.outcomes.filter((o) => o.status === 'failed')) {
        failStep(o.error instanceof ConfigError ? o.error : new UserError(workflowError(o)), this.ci, this.logger);
      }
    }
    if (failure) failStep(failure, this.ci, this.logger);
  }

  /** Written whatever happened; one workflow whose config could not be read has no comment (the summary has the error). */
  private async finalComment(run: FinishedRun, failure: unknown, notes: Note[]): Promise<Error | undefined> {
    if (!this.settings || !this.comments) return undefined;
    if (run.several) return this.comments.final(this.workflowsKey(), this.workflowsReport(run.outcomes, COMMENT_LIMIT), notes);
    const result = run.outcomes[0]?.result;
    if (result) return this.comments.final(result.deploymentName, renderComment(this.report(result, failure, notes)), notes);
    if (this.settings.comment !== 'never') core.info('No PR comment: the config could not be read (the job summary has the error)');
    return undefined;
  }

  private report(result: ReportInput['result'], error: unknown, notes: Note[]): ReportInput {
    return { result, error, ci: this.ci, notes, preview: this.plan?.preview, redact: this.redact };
  }

  /** The comment listing several workflows is keyed by the config input: the same step on the next push updates it. */
  private workflowsKey(): string {
    return `workflows:${this.settings!.configInput}`;
  }

  private workflowsReport(outcomes: WorkflowOutcome[], limit: number, notes: Note[] = [], inProgress = false): string {
    const input = { outcomes, ci: this.ci, preview: this.plan?.preview, notes, workdir: this.settings!.workingDirectory, inProgress, redact: this.redact };
    return renderWorkflows(input, limit);
  }
}
