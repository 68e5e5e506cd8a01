import type { CiContext } from '../../ci-context.js';
import { describeError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { PipelineResult } from '../../pipeline.js';
import type { RunResult } from '../../run-state.js';
import type { StepName } from '../../steps.js';
import { isBrowsable } from '../report/render.js';
import type { Preview } from '../preview.js';
import { describeGitHubError } from './api.js';
import { createGitHubClient, type GitHubClient, type GitHubClientOptions } from './client.js';
import { createDeployment, createStatus, latestState, listDeployments, markOf, type DeploymentState, type PayloadMark, type RepositoryRef } from './deployments-api.js';
import { pullRequestFromEvent, splitRepository } from './pull-request.js';

/** What the action was asked for, as deployments need it. */
export interface DeploymentsRequest {
  /** The `environment` input (non-empty: deployments are on). */
  environment: string;
  token: string;
  /** The steps decided for this event (preview.ts): deploy/run create a deployment, stop marks them inactive. */
  steps: StepName[];
  preview?: Preview;
  /** Several config files: each workflow gets its own environment, `<environment>/<name>`. */
  several: boolean;
}

/** A deployment whose workflow was still going: what the post step marks cancelled. */
export interface InFlightDeployment {
  id: number;
  name: string;
  environment: string;
  logUrl?: string;
}

const PERMISSION_HINT = "give the job 'permissions: deployments: write'";

/**
 * GitHub Deployments for the workflows of one step (the `environment` input): each
 * workflow whose steps deploy or run gets a deployment of the commit, `in_progress`
 * while its steps run, then `success`, `failure` (a step failed) or `error` (it could
 * not run, or the job was cancelled: the post step). A stop marks the environment's
 * deployments `inactive`. Reporting, not deploying: a GitHub that refuses or fails
 * is a warning and the steps go on; after a refusal (403) no further call is made.
 */
export class GitHubDeployments {
  /** The deployment id of each workflow, by deployment name (the `github-deployment-id` output). */
  readonly ids = new Map<string, number>();
  private readonly inFlight: InFlightDeployment[] = [];
  private readonly repository?: RepositoryRef;
  /** Set once GitHub refused (or cannot be asked): no further call in this step. */
  private off = false;
  /** A status being posted for a deployment: the next one waits for it, so GitHub gets them in order. */
  private readonly posting = new Map<number, Promise<unknown>>();

  constructor(
    private readonly request: DeploymentsRequest,
    private readonly ci: CiContext,
    private readonly logger: Logger,
    /** Called with the deployments in flight whenever they change: saved for the post step. */
    private readonly save: (inFlight: InFlightDeployment[]) => void,
    /** Tests only: shorter limits and retry waits than GitHub's defaults. */
    private readonly clientOptions: GitHubClientOptions = {},
  ) {
    this.repository = splitRepository(ci.repository);
    const pr = pullRequestFromEvent(ci);
    if (pr?.fromFork && ci.eventName === 'pull_request') {
      this.off = true;
      logger.info(`No GitHub deployment: pull request #${pr.number} comes from a fork, and GitHub gives a fork's pull_request run a read-only token`);
    }
  }

  /** One workflow's steps, inside its GitHub deployment. */
  async around(name: string, run: () => Promise<PipelineResult>): Promise<PipelineResult> {
    const steps = this.request.steps;
    if (steps.includes('plan')) return run();
    if (steps.includes('stop')) {
      const result = await run();
      if (!result.error) await this.markInactive(name);
      return result;
    }
    if (!steps.includes('deploy') && !steps.includes('run')) return run();
    const deployment = await this.start(name);
    let result: PipelineResult;
    try {
      result = await run();
    } catch (error) {
      if (deployment) await this.end(deployment, 'error', `could not run: ${describeError(error)}`);
      throw error;
    }
    if (deployment) await this.end(deployment, result.error ? 'failure' : 'success', describeResult(result), result);
    return result;
  }

  /** The environment a workflow deploys to: a preview's own name; several workflows, one each. */
  environmentOf(name: string): string {
    if (this.request.preview) return name;
    return this.request.several ? `${this.request.environment}/${name}` : this.request.environment;
  }

  /** The deployment of this attempt (a re-run of it finds the one it made), `in_progress`. */
  private async start(name: string): Promise<InFlightDeployment | undefined> {
    const environment = this.environmentOf(name);
    const deployment = await this.call(`create the GitHub deployment of ${name} in environment ${environment}`, async (octokit, where) => {
      const mark: PayloadMark = { run_id: this.ci.runId, attempt: this.ci.runAttempt, workflow: this.ci.workflow ?? '', name };
      const existing = (await listDeployments(octokit, where, { environment, sha: this.ci.sha })).find((d) => sameMark(markOf(d), mark));
      if (existing) this.logger.info(`GitHub deployment ${existing.id} in ${environment}: made by an earlier run of this attempt, reused`);
      const preview = this.request.preview !== undefined;
      const { id } =
        existing ??
        (await createDeployment(octokit, where, {
          sha: this.ci.sha,
          environment,
          description: `lolpop-deploy: ${name}`,
          transient: preview,
          production: !preview,
          mark,
        }));
      const inFlight: InFlightDeployment = { id, name, environment, logUrl: this.jobUrl() };
      await createStatus(octokit, where, id, { state: 'in_progress', description: `${this.request.steps.join(' → ')} of ${name}`, logUrl: inFlight.logUrl });
      return inFlight;
    });
    if (!deployment) return undefined;
    this.ids.set(name, deployment.id);
    this.inFlight.push(deployment);
    this.save(this.inFlight);
    this.logger.info(`GitHub deployment ${deployment.id} in environment ${environment}: in_progress`);
    return deployment;
  }

  /**
   * The run has started (a wait may be long): `in_progress` again, its log the run's page.
   * Not awaited by the pipeline (onRunStarted is synchronous): the final status waits for it.
   */
  runStarted(name: string, run: RunResult): void {
    const deployment = this.inFlight.find((d) => d.name === name);
    const logUrl = browsable(run.url);
    if (!deployment || !logUrl) return;
    deployment.logUrl = logUrl;
    this.save(this.inFlight);
    const description = `${name}: run ${run.id} started`;
    this.posting.set(
      deployment.id,
      this.call(`set GitHub deployment ${deployment.id} to in_progress`, (octokit, where) => createStatus(octokit, where, deployment.id, { state: 'in_progress', description, logUrl })),
    );
  }

  private async end(deployment: InFlightDeployment, state: DeploymentState, description: string, result?: PipelineResult): Promise<void> {
    this.inFlight.splice(this.inFlight.indexOf(deployment), 1);
    this.save(this.inFlight);
    await this.posting.get(deployment.id);
    const logUrl = browsable(result?.run?.url) ?? deployment.logUrl;
    const environmentUrl = browsable(result?.deployment?.url);
    const done = await this.call(`set GitHub deployment ${deployment.id} to ${state}`, async (octokit, where) => {
      await createStatus(octokit, where, deployment.id, { state, description: this.logger.redact(description), logUrl, environmentUrl });
      return true;
    });
    if (done) this.logger.info(`GitHub deployment ${deployment.id} in environment ${deployment.environment}: ${state}`);
  }

  /**
   * A stopped deployment's environment: each of its deployments not yet inactive is
   * made so (GitHub's own auto_inactive leaves production and transient ones active);
   * a transient (preview) environment then shows as destroyed.
   */
  private async markInactive(name: string): Promise<void> {
    const environment = this.environmentOf(name);
    const marked = await this.call(`mark the GitHub deployments in environment ${environment} inactive`, async (octokit, where) => {
      const deployments = await listDeployments(octokit, where, { environment });
      let count = 0;
      for (const d of deployments) {
        if ((await latestState(octokit, where, d.id)) === 'inactive') continue;
        await createStatus(octokit, where, d.id, { state: 'inactive', description: `${name} stopped`, logUrl: this.jobUrl() });
        count += 1;
      }
      if (deployments[0]) this.ids.set(name, deployments[0].id);
      return count;
    });
    if (marked !== undefined) this.logger.info(`GitHub environment ${environment}: ${marked} deployment(s) marked inactive`);
  }

  /** Deployments the main step left in flight (the job was cancelled): `error`, saying so. */
  async cancelled(inFlight: readonly InFlightDeployment[]): Promise<void> {
    for (const d of inFlight) {
      const done = await this.call(`set GitHub deployment ${d.id} to error (cancelled)`, async (octokit, where) => {
        await createStatus(octokit, where, d.id, { state: 'error', description: `cancelled: the job was cancelled or timed out while ${d.name} was deploying or running`, logUrl: d.logUrl });
        return true;
      });
      if (done) this.logger.info(`GitHub deployment ${d.id} in environment ${d.environment}: error (cancelled)`);
    }
  }

  /**
   * One GitHub exchange, with a client of its own (its own time budget: a workflow may
   * run for hours between two). A refusal (403/404, not a rate limit) turns deployments
   * off for the step with one warning naming the permission; any other failure warns.
   */
  private async call<T>(what: string, fn: (octokit: GitHubClient, where: RepositoryRef) => Promise<T>): Promise<T | undefined> {
    if (this.off || !this.repository) return undefined;
    try {
      const octokit = await createGitHubClient(this.request.token, this.ci.apiUrl, this.logger, this.clientOptions);
      return await fn(octokit, this.repository);
    } catch (error) {
      const status = (error as { status?: number }).status;
      const said = describeGitHubError(error);
      if ((status === 403 || status === 404) && !/rate limit/i.test(said)) {
        this.off = true;
        // Octokit appends the documentation URL after " - ".
        const cause = describeError(error).split(' - ')[0];
        this.logger.warning(`Failed to ${what}: ${cause} (${status}); ${PERMISSION_HINT}. The steps go on without GitHub deployments.`);
      } else {
        this.logger.warning(`Failed to ${what}: ${said}`);
      }
      return undefined;
    }
  }

  /** This workflow run's page: the log of a deployment that has no run page of its own. */
  private jobUrl(): string | undefined {
    if (!this.ci.repository || !this.ci.runId) return undefined;
    const attempt = this.ci.runAttempt && this.ci.runAttempt !== '1' ? `/attempts/${this.ci.runAttempt}` : '';
    return browsable(`${this.ci.serverUrl}/${this.ci.repository}/actions/runs/${this.ci.runId}${attempt}`);
  }
}

function sameMark(a: PayloadMark | undefined, b: PayloadMark): boolean {
  return a !== undefined && a.run_id === b.run_id && a.attempt === b.attempt && a.workflow === b.workflow && a.name === b.name;
}

function browsable(url: string | undefined): string | undefined {
  return url && isBrowsable(url) ? url : undefined;
}

/** The status line: what ran and how it ended, or which step failed and why. */
function describeResult(result: PipelineResult): string {
  const failed = result.steps.find((s) => s.status === 'failed');
  if (failed) return `${failed.step} failed: ${failed.detail ?? describeError(result.error)}`;
  const run = result.run ? `; ${result.runNoun} ${result.run.id} ${result.run.state}` : '';
  return `${result.deploymentName} deployed${run}`;
}
