import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

export interface PullRequestEvent {
  repository: string;
  number: number;
  /** The pull request's head commit. */
  sha: string;
  /** Its base commit (pull_request.base.sha), when the test needs one. */
  baseSha?: string;
  /** GITHUB_SERVER_URL: `file://<root>` where a worker clones from. */
  serverUrl?: string;
  /** GITHUB_API_URL: the GitHub stand-in. */
  apiUrl: string;
}

/**
 * A `synchronize` of pull request `number` as GitHub's runner hands it to a step: the payload
 * written to `<dir>/event.json`, and the GITHUB_* variables naming it (a new run id each).
 */
export function pullRequestEnv(dir: string, pr: PullRequestEvent): Record<string, string> {
  const eventPath = path.join(dir, 'event.json');
  const repo = { full_name: pr.repository, fork: false, default_branch: 'main' };
  const base = { ...(pr.baseSha ? { sha: pr.baseSha } : {}), repo };
  writeFileSync(eventPath, JSON.stringify({ action: 'synchronize', number: pr.number, pull_request: { number: pr.number, head: { sha: pr.sha, repo }, base }, repository: repo }));
  return {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: pr.sha,
    GITHUB_REF: `refs/pull/${pr.number}/merge`,
    GITHUB_REPOSITORY: pr.repository,
    ...(pr.serverUrl ? { GITHUB_SERVER_URL: pr.serverUrl } : {}),
    GITHUB_API_URL: pr.apiUrl,
    GITHUB_RUN_ID: randomUUID(),
    GITHUB_RUN_ATTEMPT: '1',
  };
}
