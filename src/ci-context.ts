import { readFileSync } from 'node:fs';

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
  serverUrl: string;
  apiUrl: string;
  eventName: string;
  eventPath: string;
  workspace: string;
  /** Set on pull_request events. */
  pullRequestNumber?: number;
  /** The event payload, parsed; {} when there is none. */
  event: Record<string, unknown>;
}

export function readCiContext(env: NodeJS.ProcessEnv, readEvent: (path: string) => string | undefined = readIfExists): CiContext {
  const eventPath = env.GITHUB_EVENT_PATH ?? '';
  let event: Record<string, unknown> = {};
  const raw = eventPath ? readEvent(eventPath) : undefined;
  if (raw) {
    try {
      event = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      event = {};
    }
  }
  const pr = event.pull_request as { number?: number; head?: { sha?: string } } | undefined;
  // On pull_request events GITHUB_SHA is the merge commit GitHub made, which no
  // one can check out later; images and runs are labelled with the PR head.
  const sha = pr?.head?.sha ?? env.GITHUB_SHA ?? '';
  return {
    sha,
    shortSha: sha.slice(0, 7),
    ref: env.GITHUB_REF ?? '',
    refName: env.GITHUB_REF_NAME ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
    runNumber: env.GITHUB_RUN_NUMBER ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    eventPath,
    workspace: env.GITHUB_WORKSPACE ?? '',
    pullRequestNumber: typeof pr?.number === 'number' ? pr.number : undefined,
    event,
  };
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
