import type { CiContext } from '../../ci-context.js';
import { pullRequestsOfCommit } from './api.js';
import type { GitHubClient } from './client.js';

/** The pull request a run reports to. */
export interface PullRequestTarget {
  owner: string;
  repo: string;
  number: number;
  /** Where it was found: the event payload, or the commit's associated pulls. */
  source: 'event' | 'commit';
  /** The event's head branch lives in another repository (on pull_request, GITHUB_TOKEN is then read-only). */
  fromFork: boolean;
}

/** "owner/name" → its two parts, or undefined outside GitHub. */
export function splitRepository(repository: string): { owner: string; repo: string } | undefined {
  const [owner, repo, ...rest] = repository.split('/');
  return owner && repo && rest.length === 0 ? { owner, repo } : undefined;
}

/** The pull request in a pull_request (or pull_request_target) event's payload. */
export function pullRequestFromEvent(ci: CiContext): PullRequestTarget | undefined {
  const names = splitRepository(ci.repository);
  const pr = ci.event.pull_request;
  if (!names || !pr) return undefined;
  const base = pr.base?.repo?.full_name ?? ci.repository;
  // A deleted fork has head.repo null: not this repository either.
  const head = pr.head?.repo === null ? '' : (pr.head?.repo?.full_name ?? base);
  return { ...names, number: pr.number, source: 'event', fromFork: head.toLowerCase() !== base.toLowerCase() };
}

/**
 * The pull request to report to: on pull_request events the one in the payload; else
 * the pull request the commit belongs to — on a push after a merge, the merged one
 * (GET /repos/{owner}/{repo}/commits/{sha}/pulls); undefined when there is none.
 */
export async function findPullRequest(octokit: GitHubClient, ci: CiContext): Promise<PullRequestTarget | undefined> {
  const fromEvent = pullRequestFromEvent(ci);
  if (fromEvent) return fromEvent;
  const names = splitRepository(ci.repository);
  if (!names || !ci.sha) return undefined;
  const data = await pullRequestsOfCommit(octokit, names, ci.sha);
  // The commit may sit on several branches' pull requests: the merged one is the one it landed by.
  const merged = data.filter((pr) => pr.merged_at).sort((a, b) => (a.merged_at! < b.merged_at! ? 1 : -1));
  const chosen = merged.find((pr) => pr.merge_commit_sha === ci.sha) ?? merged[0] ?? data.find((pr) => pr.state === 'open');
  if (!chosen) return undefined;
  // Found from a push or a dispatch: the token is this repository's, whoever opened the PR.
  return { ...names, number: chosen.number, source: 'commit', fromFork: false };
}
