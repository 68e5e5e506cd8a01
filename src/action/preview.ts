import { createHash } from 'node:crypto';
import type { CiContext } from '../ci-context.js';
import type { ConfigOverrides } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { ActionSettings } from './inputs.js';
import type { StepName } from '../steps.js';

/** What a preview run is the preview of; `closed`: the PR was closed or the branch deleted, and the preview is stopped. */
export type Preview =
  | { kind: 'pull_request'; pullRequest: number; closed: boolean }
  | { kind: 'branch'; branch: string; closed: boolean };

/**
 * What the action runs once `preview:` is decided: the steps and overrides, the
 * preview (if any) and why. Not the `plan` step (a dry run of package → deploy → run).
 */
export interface PreviewDecision {
  steps: StepName[];
  overrides: ConfigOverrides;
  /** Set when the run is a preview (deployed, or stopped on close or delete). */
  preview?: Preview;
  /** What `preview: true` decided, in a sentence for the log; when no step runs, the report says it too. */
  note?: string;
}

/** A branch slug's length at most; a longer one is cut and given a hash of the branch name. */
export const BRANCH_SLUG_MAX = 40;
const HASH_LENGTH = 7;

/**
 * Preview deployments (`preview: true`):
 * - a pull_request event deploys `<name>-pr-<N>`; when that PR is closed (merged or
 *   not) the same workflow stops what the preview created;
 * - a run on a branch other than the production branch (a push, a manual run…)
 *   deploys the branch preview `<name>-<slug>`; when the branch is deleted (a
 *   `delete` event) the same workflow stops it;
 * - tags and the production branch deploy the production name.
 * A stop ignores the steps input and deletes unless stop-kwargs say otherwise.
 * The production branch is the production-branch input, else the repository's
 * default branch as the event payload gives it; when neither is known a branch
 * run fails rather than guess which name it deploys.
 */
export function decidePreview(settings: ActionSettings, ci: CiContext): PreviewDecision {
  const production: PreviewDecision = { steps: settings.steps, overrides: settings.overrides };
  if (!settings.preview) return production;

  if (ci.pullRequestNumber !== undefined) {
    const pullRequest = ci.pullRequestNumber;
    const overrides: ConfigOverrides = { ...settings.overrides, deploymentNameSuffix: `-pr-${pullRequest}` };
    if (ci.event.action === 'closed') {
      return {
        ...stopDecision(settings, overrides),
        preview: { kind: 'pull_request', pullRequest, closed: true },
        note: `Pull request #${pullRequest} was closed: stopping its preview deployment`,
      };
    }
    return { steps: settings.steps, overrides, preview: { kind: 'pull_request', pullRequest, closed: false } };
  }

  const deleted = ci.deletedRef;
  if (ci.eventName === 'delete' && !deleted) {
    // GITHUB_REF of a delete event is the default branch: never deploy production from it.
    return { steps: [], overrides: settings.overrides, note: 'A delete event whose payload names no branch or tag: nothing to deploy or stop' };
  }
  if (deleted?.type === 'tag') {
    return { steps: [], overrides: settings.overrides, note: `Tag ${deleted.name} was deleted: nothing to deploy or stop (preview: true stops the previews of deleted branches only)` };
  }
  const branch = deleted?.name ?? (ci.ref.startsWith('refs/heads/') ? ci.ref.slice('refs/heads/'.length) : undefined);
  if (branch === undefined) {
    // A tag, or a run with no branch (not on GitHub): the production name.
    return ci.ref.startsWith('refs/tags/') ? { ...production, note: `Tag ${ci.ref.slice('refs/tags/'.length)}: deploying the production name` } : production;
  }
  const productionBranch = productionBranchOf(settings, ci);
  if (branch === productionBranch) {
    if (deleted) {
      return { steps: [], overrides: settings.overrides, note: `Branch ${branch}, the production branch, was deleted: nothing to stop (preview: true only stops previews)` };
    }
    return { ...production, note: `Branch ${branch} is the production branch: deploying the production name` };
  }
  const overrides: ConfigOverrides = { ...settings.overrides, deploymentNameSuffix: `-${branchSlug(branch)}` };
  if (deleted) {
    return {
      ...stopDecision(settings, overrides),
      preview: { kind: 'branch', branch, closed: true },
      note: `Branch ${branch} was deleted: stopping its preview deployment`,
    };
  }
  return {
    steps: settings.steps,
    overrides,
    preview: { kind: 'branch', branch, closed: false },
    note: `Branch ${branch} is not the production branch (${productionBranch}): deploying its preview (name suffix ${overrides.deploymentNameSuffix})`,
  };
}

/**
 * A closed PR's or deleted branch's preview is removed, not kept paused forever
 * (PRODUCT: "what deploy created is removed"); the stop-kwargs input can still say otherwise.
 */
function stopDecision(settings: ActionSettings, overrides: ConfigOverrides): PreviewDecision {
  const stop = { mode: 'delete', ...settings.overrides.kwargs?.stop };
  return { steps: ['stop'], overrides: { ...overrides, kwargs: { ...settings.overrides.kwargs, stop } } };
}

function productionBranchOf(settings: ActionSettings, ci: CiContext): string {
  const input = settings.productionBranch?.trim();
  if (input) return input.startsWith('refs/heads/') ? input.slice('refs/heads/'.length) : input;
  if (ci.defaultBranch) return ci.defaultBranch;
  throw new ConfigError(
    `preview: true on a ${ci.eventName || 'non-pull-request'} event needs the production branch, and this event does not give the repository's default branch; ` +
      'set the production-branch input (e.g. production-branch: main): only that branch deploys the production name, every other branch its preview',
  );
}

/**
 * The branch in a deployment name: lower-case, `-` for anything outside [a-z0-9-]
 * (accents dropped first: `café` → `cafe`), runs of `-` collapsed, none at either end.
 * At most BRANCH_SLUG_MAX characters: a longer slug is cut and ends in a hash of the
 * branch name, so two long branches sharing a prefix get different names. A branch
 * with no usable character is its hash alone; one that reads `pr-<N>` gets the hash
 * too, so it never takes pull request N's preview name.
 */
export function branchSlug(branch: string): string {
  const slug = branch
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const hash = createHash('sha256').update(branch).digest('hex').slice(0, HASH_LENGTH);
  if (!slug) return hash;
  if (slug.length <= BRANCH_SLUG_MAX && !/^pr-\d+$/.test(slug)) return slug;
  const head = slug.slice(0, BRANCH_SLUG_MAX - HASH_LENGTH - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}
