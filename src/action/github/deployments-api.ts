import { z } from 'zod';
import { checked } from './api.js';
import type { GitHubClient } from './client.js';

/** Where GitHub's deployments of this repository are. */
export interface RepositoryRef {
  owner: string;
  repo: string;
}

/** What the action writes into a deployment's payload, and finds it again by (a re-run of the same attempt). */
export const PayloadMark = z.object({ run_id: z.string(), attempt: z.string(), workflow: z.string(), name: z.string() });
export type PayloadMark = z.infer<typeof PayloadMark>;

// Only the fields this action reads: GitHub's other fields pass through untouched.
const Deployment = z.object({
  id: z.number().int(),
  environment: z.string(),
  // GitHub answers an object payload as an object; any other (a string, another tool's) is not ours.
  payload: z.union([z.record(z.string(), z.unknown()), z.string()]),
});
export type Deployment = z.infer<typeof Deployment>;
const DeploymentStatus = z.object({ id: z.number().int(), state: z.string() });

/** The states GitHub takes (POST …/deployments/{id}/statuses). */
export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export interface NewDeployment {
  sha: string;
  environment: string;
  description: string;
  transient: boolean;
  production: boolean;
  mark: PayloadMark;
}

export interface NewStatus {
  state: DeploymentState;
  /** At most 140 characters (GitHub refuses longer). */
  description: string;
  /** The run's page, else the workflow run's; none outside GitHub. */
  logUrl?: string;
  environmentUrl?: string;
}

/** The most deployments read when looking for one (newest first): a commit has a handful per environment. */
const PER_PAGE = 100;

/**
 * A deployment of the commit, not merged with the default branch (`auto_merge: false`)
 * nor held until its checks pass (`required_contexts: []`): it records what this run
 * deploys, it does not gate it.
 */
export async function createDeployment(octokit: GitHubClient, where: RepositoryRef, d: NewDeployment): Promise<Deployment> {
  const res = await octokit.rest.repos.createDeployment({
    ...where,
    ref: d.sha,
    task: 'deploy',
    auto_merge: false,
    required_contexts: [],
    payload: { lolpop_deploy: d.mark },
    environment: d.environment,
    description: d.description,
    transient_environment: d.transient,
    production_environment: d.production,
  });
  // 202 is GitHub's "merged the default branch in first", which auto_merge: false never asks for.
  return checked(Deployment, res.data, `POST /repos/${where.owner}/${where.repo}/deployments`);
}

/** The environment's deployments, newest first (of one commit when `sha` is given): the first page of 100. */
export async function listDeployments(octokit: GitHubClient, where: RepositoryRef, filter: { environment: string; sha?: string }): Promise<Deployment[]> {
  const res = await octokit.rest.repos.listDeployments({ ...where, environment: filter.environment, ...(filter.sha ? { sha: filter.sha } : {}), per_page: PER_PAGE });
  return checked(z.array(Deployment), res.data, `GET /repos/${where.owner}/${where.repo}/deployments`);
}

export async function createStatus(octokit: GitHubClient, where: RepositoryRef, id: number, s: NewStatus): Promise<void> {
  const res = await octokit.rest.repos.createDeploymentStatus({
    ...where,
    deployment_id: id,
    state: s.state,
    description: s.description.length > 140 ? `${s.description.slice(0, 139)}…` : s.description,
    ...(s.logUrl ? { log_url: s.logUrl } : {}),
    ...(s.environmentUrl ? { environment_url: s.environmentUrl } : {}),
  });
  checked(DeploymentStatus, res.data, `POST /repos/${where.owner}/${where.repo}/deployments/${id}/statuses`);
}

/** A deployment's latest state (GitHub lists statuses newest first); undefined when it has none. */
export async function latestState(octokit: GitHubClient, where: RepositoryRef, id: number): Promise<string | undefined> {
  const res = await octokit.rest.repos.listDeploymentStatuses({ ...where, deployment_id: id, per_page: 1 });
  return checked(z.array(DeploymentStatus), res.data, `GET /repos/${where.owner}/${where.repo}/deployments/${id}/statuses`)[0]?.state;
}

/** The mark in a deployment's payload, when this action wrote one. */
export function markOf(deployment: Deployment): PayloadMark | undefined {
  if (typeof deployment.payload === 'string') return undefined;
  const parsed = PayloadMark.safeParse(deployment.payload.lolpop_deploy);
  return parsed.success ? parsed.data : undefined;
}
