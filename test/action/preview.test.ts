import { describe, expect, it } from 'vitest';
import { readCiContext } from '../../src/ci-context.js';
import { ConfigError } from '../../src/errors.js';
import type { ActionSettings } from '../../src/action/inputs.js';
import { BRANCH_SLUG_MAX, branchSlug, decidePreview } from '../../src/action/preview.js';
import { ciContext } from '../helpers/services.js';

const settings = (overrides: Partial<ActionSettings> = {}): ActionSettings => ({
  configFiles: ['/w/lolpop.yaml'],
  configInput: 'lolpop.yaml',
  maxParallel: 4,
  failFast: false,
  workingDirectory: '/w',
  steps: ['package', 'deploy', 'run'],
  overrides: { kwargs: {} },
  preview: true,
  comment: 'auto',
  summary: true,
  githubToken: 't',
  cancelOnJobCancel: true,
  ...overrides,
});
const pr = (action: string) => ciContext({ eventName: 'pull_request', pullRequestNumber: 7, event: { action, number: 7 } });

describe('decidePreview', () => {
  it('a pull request deploys <name>-pr-<N> with the steps asked for', () => {
    expect(decidePreview(settings(), pr('synchronize'))).toEqual({
      steps: ['package', 'deploy', 'run'],
      overrides: { kwargs: {}, deploymentNameSuffix: '-pr-7' },
      preview: { kind: 'pull_request', pullRequest: 7, closed: false },
    });
  });

  it('a closed pull request stops its preview and deletes what deploy created', () => {
    const decision = decidePreview(settings(), pr('closed'));
    expect(decision.steps).toEqual(['stop']);
    expect(decision.overrides).toEqual({ kwargs: { stop: { mode: 'delete' } }, deploymentNameSuffix: '-pr-7' });
    expect(decision.preview).toEqual({ kind: 'pull_request', pullRequest: 7, closed: true });
  });

  it('the stop-kwargs input can keep a closed preview paused', () => {
    const decision = decidePreview(settings({ overrides: { kwargs: { stop: { mode: 'pause', cancel_runs: true } } } }), pr('closed'));
    expect(decision.overrides.kwargs?.stop).toEqual({ mode: 'pause', cancel_runs: true });
  });

  it('without preview, every event deploys the production name (a feature branch, a delete event)', () => {
    const off = settings({ preview: false });
    const production = { steps: ['package', 'deploy', 'run'], overrides: { kwargs: {} } };
    expect(decidePreview(off, push('refs/heads/feature-x'))).toEqual(production);
    expect(decidePreview(off, ciContext({ eventName: 'push', ref: 'refs/heads/feature-x' }))).toEqual(production);
    expect(decidePreview(off, deleteEvent('branch', 'feature-x'))).toEqual(production);
  });
});

/** A push as readCiContext reads it: GITHUB_REF and the payload's ref and repository.default_branch. */
function push(ref: string, defaultBranch: string | undefined = 'main', payload: Record<string, unknown> = {}) {
  const event = { ref, ...(defaultBranch ? { repository: { full_name: 'acme/quickstart', default_branch: defaultBranch } } : {}), ...payload };
  return readEvent({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: ref }, event);
}

/** A delete event as GitHub sends it: GITHUB_REF is the default branch; the payload's ref is the deleted ref's short name. */
function deleteEvent(refType: 'branch' | 'tag', ref: string) {
  const event = { ref, ref_type: refType, pusher_type: 'user', repository: { full_name: 'acme/quickstart', default_branch: 'main' } };
  return readEvent({ GITHUB_EVENT_NAME: 'delete', GITHUB_REF: 'refs/heads/main' }, event);
}

function readEvent(env: Record<string, string>, event: Record<string, unknown>) {
  return readCiContext({ ...env, GITHUB_EVENT_PATH: '/event.json' }, () => JSON.stringify(event));
}

describe('decidePreview on branches (preview: true)', () => {
  it('a push to a feature branch deploys <name>-<slug>, never the production name', () => {
    expect(decidePreview(settings(), push('refs/heads/feature-x'))).toMatchObject({
      steps: ['package', 'deploy', 'run'],
      overrides: { kwargs: {}, deploymentNameSuffix: '-feature-x' },
      preview: { kind: 'branch', branch: 'feature-x', closed: false },
      note: 'Branch feature-x is not the production branch (main): deploying its preview (name suffix -feature-x)',
    });
  });

  it('a manual run (workflow_dispatch) on a feature branch deploys its preview too', () => {
    const ci = readEvent({ GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_REF: 'refs/heads/Feature/Better-Model' }, { ref: 'refs/heads/Feature/Better-Model', repository: { default_branch: 'main' }, inputs: {} });
    expect(decidePreview(settings(), ci).overrides.deploymentNameSuffix).toBe('-feature-better-model');
  });

  it('a push to the default branch deploys the production name', () => {
    const decision = decidePreview(settings(), push('refs/heads/main'));
    expect(decision).toMatchObject({ steps: ['package', 'deploy', 'run'], overrides: { kwargs: {} } });
    expect(decision.overrides.deploymentNameSuffix).toBeUndefined();
    expect(decision.preview).toBeUndefined();
  });

  it('the production-branch input overrides the default branch: it deploys production, the default branch a preview', () => {
    const release = settings({ productionBranch: 'release' });
    expect(decidePreview(release, push('refs/heads/release')).overrides.deploymentNameSuffix).toBeUndefined();
    expect(decidePreview(release, push('refs/heads/main')).overrides.deploymentNameSuffix).toBe('-main');
    // Written as a full ref, it means the same branch.
    expect(decidePreview(settings({ productionBranch: 'refs/heads/release' }), push('refs/heads/release')).preview).toBeUndefined();
  });

  it('a tag push deploys the production name', () => {
    const decision = decidePreview(settings(), push('refs/tags/v1.2.0'));
    expect(decision).toEqual({ steps: ['package', 'deploy', 'run'], overrides: { kwargs: {} }, note: 'Tag v1.2.0: deploying the production name' });
  });

  it('a scheduled run is on the default branch by definition, though its payload does not say so', () => {
    const ci = readEvent({ GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/main' }, { schedule: '0 3 * * *' });
    expect(decidePreview(settings(), ci).preview).toBeUndefined();
  });

  it('no production branch known: a clear config error, not a guess', () => {
    const ci = readEvent({ GITHUB_EVENT_NAME: 'repository_dispatch', GITHUB_REF: 'refs/heads/main' }, { action: 'deploy' });
    expect(() => decidePreview(settings(), ci)).toThrow(ConfigError);
    expect(() => decidePreview(settings(), ci)).toThrow(/set the production-branch input \(e\.g\. production-branch: main\)/);
    // The input is enough.
    expect(decidePreview(settings({ productionBranch: 'main' }), ci).preview).toBeUndefined();
    // A tag needs no production branch.
    expect(decidePreview(settings(), ciContext({ eventName: 'repository_dispatch', ref: 'refs/tags/v1' })).steps).toEqual(['package', 'deploy', 'run']);
  });

  it('the delete event of a branch stops its preview and deletes what deploy created, whatever the steps input', () => {
    const decision = decidePreview(settings(), deleteEvent('branch', 'feature-x'));
    expect(decision).toEqual({
      steps: ['stop'],
      overrides: { kwargs: { stop: { mode: 'delete' } }, deploymentNameSuffix: '-feature-x' },
      preview: { kind: 'branch', branch: 'feature-x', closed: true },
      note: 'Branch feature-x was deleted: stopping its preview deployment',
    });
    // Exactly the name the branch's pushes deployed, for an odd branch name too.
    const odd = 'Feature/Ünïcode_ÉTÉ';
    expect(decidePreview(settings(), deleteEvent('branch', odd)).overrides.deploymentNameSuffix).toBe(decidePreview(settings(), push(`refs/heads/${odd}`)).overrides.deploymentNameSuffix);
  });

  it('the stop-kwargs input can keep a deleted branch’s preview paused', () => {
    const decision = decidePreview(settings({ overrides: { kwargs: { stop: { mode: 'pause' } } } }), deleteEvent('branch', 'feature-x'));
    expect(decision.overrides.kwargs?.stop).toEqual({ mode: 'pause' });
  });

  it('a push that deletes a branch stops its preview as the delete event does', () => {
    const decision = decidePreview(settings(), push('refs/heads/feature-x', 'main', { deleted: true, after: '0'.repeat(40) }));
    expect(decision.steps).toEqual(['stop']);
    expect(decision.overrides.deploymentNameSuffix).toBe('-feature-x');
  });

  it('deleting a tag, or the production branch, runs no step and says why', () => {
    expect(decidePreview(settings(), deleteEvent('tag', 'v1.2.0'))).toEqual({
      steps: [],
      overrides: { kwargs: {} },
      note: 'Tag v1.2.0 was deleted: nothing to deploy or stop (preview: true stops the previews of deleted branches only)',
    });
    const release = decidePreview(settings({ productionBranch: 'release' }), deleteEvent('branch', 'release'));
    expect(release.steps).toEqual([]);
    expect(release.note).toMatch(/^Branch release, the production branch, was deleted: nothing to stop/);
    // A delete event's GITHUB_REF is the default branch: never a production deploy.
    const empty = readEvent({ GITHUB_EVENT_NAME: 'delete', GITHUB_REF: 'refs/heads/main' }, { repository: { default_branch: 'main' } });
    expect(decidePreview(settings(), empty).steps).toEqual([]);
  });
});

describe('branchSlug', () => {
  it.each([
    ['feature-x', 'feature-x'],
    ['Feature/Better_Model', 'feature-better-model'],
    ['fix//double--dash__', 'fix-double-dash'],
    ['café/été', 'cafe-ete'],
    ['dependabot/npm_and_yarn/vite-5.4.2', 'dependabot-npm-and-yarn-vite-5-4-2'],
  ])('%s → %s', (branch, slug) => {
    expect(branchSlug(branch)).toBe(slug);
  });

  const valid = (slug: string) => {
    expect(slug).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    expect(slug.length).toBeLessThanOrEqual(BRANCH_SLUG_MAX);
  };

  it('a long branch is cut, and two sharing a long prefix stay distinct', () => {
    const prefix = 'users/Jane.Doe/EXPERIMENT/ünicode—tuning-of-the-learning-rate-schedule';
    const a = branchSlug(`${prefix}-a`);
    const b = branchSlug(`${prefix}-b`);
    valid(a);
    valid(b);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^users-jane-doe-experiment-unicod-[0-9a-f]{7}$/);
    expect(a.length).toBe(BRANCH_SLUG_MAX);
  });

  it('a branch with no usable character is its hash; distinct branches, distinct hashes', () => {
    valid(branchSlug('日本語'));
    expect(branchSlug('日本語')).toMatch(/^[0-9a-f]{7}$/);
    expect(branchSlug('日本語')).not.toBe(branchSlug('中文'));
    expect(branchSlug('日本語')).toBe(branchSlug('日本語'));
  });

  it('a branch called pr-<N> never takes pull request N’s preview name', () => {
    expect(branchSlug('PR-7')).toMatch(/^pr-7-[0-9a-f]{7}$/);
    expect(branchSlug('pr-7-fix')).toBe('pr-7-fix');
  });
});
