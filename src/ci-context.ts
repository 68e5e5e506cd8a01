import { readFileSync } from 'node:fs';
import { checkEventPayload, type EventPayload } from './event-payload.js';

/**
 * What the CI run is: commit, ref, run ids, repository, event. Read from the
 * environment GitHub's runner sets; outside GitHub the fields are empty and
 * every consumer copes with that (the CLI on a laptop).
 */
export interface CiContext {
  /** The commit being deployed: the PR head on pull_request events, not the merge commit. */
  sha: string;
  shortSha: string;
  /** refs/heads/main, refs/pull/7/merge, … */
  ref: string;
  /** main, 7/merge, … (GITHUB_REF_NAME) */
  refName: string;
  runId: string;
  runAttempt: string;
  runNumber: string;
  /** owner/name */
  repository: string;
  /**
   * The workflow running: its file (GITHUB_WORKFLOW_REF without the @ref, e.g.
   * acme/quickstart/.github/workflows/deploy.yml), else its name (GITHUB_WORKFLOW) on a
   * runner too old for GITHUB_WORKFLOW_REF; unset outside GitHub.
   */
  workflow?: string;
  serverUrl: string;
  apiUrl: string;
  eventName: string;
  eventPath: string;
  workspace: string;
  /** Set on pull_request events. */
  pullRequestNumber?: number;
  /**
   * The repository's default branch, from the payload's repository.default_branch (push,
   * pull_request, workflow_dispatch, delete…); on schedule events, GITHUB_REF's branch,
   * which is the default branch by definition. Unset when the run does not say.
   */
  defaultBranch?: string;
  /**
   * The branch or tag this event deleted: a `delete` event (its payload's ref and
   * ref_type; GITHUB_REF is then the default branch, not the deleted ref), or a push
   * whose payload says `deleted: true`.
   */
  deletedRef?: { type: 'branch' | 'tag'; name: string };
  /** The event payload, parsed and its fields checked (event-payload.ts); {} when there is none or it was refused. */
  event: EventPayload;
  /** Set when GITHUB_EVENT_PATH names a file that is not JSON or has a field of the wrong type: the action fails with it. */
  eventProblem?: string;
}

export function readCiContext(env: NodeJS.ProcessEnv, readEvent: (path: string) => string | undefined = readIfExists): CiContext {
  const eventPath = env.GITHUB_EVENT_PATH ?? '';
  let event: EventPayload = {};
  let eventProblem: string | undefined;
  const raw = eventPath ? readEvent(eventPath) : undefined;
  if (raw) {
    try {
      const checked = checkEventPayload(JSON.parse(raw));
      if ('event' in checked) event = checked.event;
      else eventProblem = `The event payload ${eventPath} (GITHUB_EVENT_PATH) ${checked.problem}`;
    } catch (error) {
      eventProblem = `The event payload ${eventPath} (GITHUB_EVENT_PATH) is not valid JSON: ${(error as Error).message}`;
    }
  }
  const pr = event.pull_request;
  // On pull_request events GITHUB_SHA is the merge commit GitHub made, which no
  // one can check out later; images and runs are labelled with the PR head.
  const sha = pr?.head?.sha ?? env.GITHUB_SHA ?? '';
  const ref = env.GITHUB_REF ?? '';
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  return {
    sha,
    shortSha: sha.slice(0, 7),
    ref,
    refName: env.GITHUB_REF_NAME ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
    runNumber: env.GITHUB_RUN_NUMBER ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    // The ref is a full one (refs/heads/…, refs/pull/…/merge) and a branch name may hold an @.
    workflow: env.GITHUB_WORKFLOW_REF?.replace(/@refs\/.*$/, '') || env.GITHUB_WORKFLOW || undefined,
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    eventName,
    eventPath,
    workspace: env.GITHUB_WORKSPACE ?? '',
    pullRequestNumber: pr?.number,
    defaultBranch: defaultBranchOf(event, eventName, ref),
    deletedRef: deletedRefOf(event, eventName),
    event,
    ...(eventProblem ? { eventProblem } : {}),
  };
}

function defaultBranchOf(event: EventPayload, eventName: string, ref: string): string | undefined {
  if (event.repository?.default_branch) return event.repository.default_branch;
  if (eventName === 'schedule' && ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  return undefined;
}

function deletedRefOf(event: EventPayload, eventName: string): CiContext['deletedRef'] {
  const ref = event.ref ?? '';
  if (eventName === 'delete' && ref && event.ref_type) {
    // GitHub sends the short name (`feature-x`, `v1.0`); a full ref is accepted too.
    const prefix = event.ref_type === 'branch' ? 'refs/heads/' : 'refs/tags/';
    return { type: event.ref_type, name: ref.startsWith(prefix) ? ref.slice(prefix.length) : ref };
  }
  if (eventName === 'push' && event.deleted === true) {
    if (ref.startsWith('refs/heads/')) return { type: 'branch', name: ref.slice('refs/heads/'.length) };
    if (ref.startsWith('refs/tags/')) return { type: 'tag', name: ref.slice('refs/tags/'.length) };
  }
  return undefined;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
