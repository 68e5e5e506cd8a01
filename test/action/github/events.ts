import { readFileSync } from 'node:fs';
import path from 'node:path';
import { commentMarker, workflowScope } from '../../../src/action/github/comment-marker.js';
import { readCiContext, type CiContext } from '../../../src/ci-context.js';
import { ciContext } from '../../helpers/services.js';
import type { GitHubApiServer } from './api-server.js';
import { OCTOCAT } from './api-server.js';

export const REPOSITORY = 'acme/quickstart';
export const PR = 7;
export const HEAD_SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
export const SYNC_SHA = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
export const MERGE_SHA = 'c3d4e5f60718293a4b5c6d7e8f9012345678901a';
export const NO_PR_SHA = 'd4e5f60718293a4b5c6d7e8f9012345678901a2b';
/** The workflow file the tests' runs come from (GITHUB_WORKFLOW_REF without its @ref). */
export const WORKFLOW = `${REPOSITORY}/.github/workflows/deploy.yml`;

/** The marker the action writes for `key` from `workflow`. */
export function markerOf(key: string, workflow = WORKFLOW): string {
  return commentMarker(key, workflowScope(ciContext({ repository: REPOSITORY, workflow })));
}

/** The payloads in test/fixtures/github/events, as GitHub sends them. */
export type EventFixture =
  | 'pull_request.opened'
  | 'pull_request.synchronize'
  | 'pull_request.closed'
  | 'pull_request.opened.fork'
  | 'push.merged'
  | 'push.no-pr'
  | 'workflow_dispatch';

export function eventPath(fixture: EventFixture): string {
  return path.resolve('test/fixtures/github/events', `${fixture}.json`);
}

/** The GITHUB_* variables the runner sets for the event (GITHUB_SHA of a pull_request is the merge ref's commit). */
export function githubEnv(fixture: EventFixture, api: GitHubApiServer, runId = '9001', attempt = '1'): Record<string, string> {
  const name = fixture.split('.')[0]!;
  const pr = name === 'pull_request' ? (fixture.endsWith('fork') ? 8 : PR) : undefined;
  const sha = pr ? 'ffffffffffffffffffffffffffffffffffffff0' + String(pr) : fixture === 'push.merged' ? MERGE_SHA : fixture === 'push.no-pr' ? NO_PR_SHA : MERGE_SHA;
  return {
    GITHUB_EVENT_NAME: name,
    GITHUB_EVENT_PATH: eventPath(fixture),
    GITHUB_SHA: sha,
    GITHUB_REF: pr ? `refs/pull/${pr}/merge` : 'refs/heads/main',
    GITHUB_REF_NAME: pr ? `${pr}/merge` : 'main',
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_WORKFLOW_REF: `${WORKFLOW}@${pr ? `refs/pull/${pr}/merge` : 'refs/heads/main'}`,
    GITHUB_SERVER_URL: api.urls.web,
    GITHUB_API_URL: api.urls.api,
    GITHUB_RUN_ID: runId,
    GITHUB_RUN_ATTEMPT: attempt,
    GITHUB_RUN_NUMBER: '12',
  };
}

export function ciFor(fixture: EventFixture, api: GitHubApiServer): CiContext {
  return readCiContext(githubEnv(fixture, api), (file) => readFileSync(file, 'utf8'));
}

/** What GitHub knows of the repository's pull requests: #7 is open at HEAD_SHA/SYNC_SHA, merged as MERGE_SHA. */
export function seedPullRequests(api: GitHubApiServer): void {
  const base = { number: PR, title: 'Train on the new data', headRef: 'feature/better-model', headRepo: REPOSITORY, baseRepo: REPOSITORY, author: OCTOCAT };
  api.pulls.set(HEAD_SHA, [{ ...base, state: 'open', headSha: HEAD_SHA, mergedAt: null, mergeCommitSha: null }]);
  api.pulls.set(SYNC_SHA, [{ ...base, state: 'open', headSha: SYNC_SHA, mergedAt: null, mergeCommitSha: null }]);
  api.pulls.set(MERGE_SHA, [{ ...base, state: 'closed', headSha: SYNC_SHA, mergedAt: '2026-11-20T11:00:00Z', mergeCommitSha: MERGE_SHA }]);
}
