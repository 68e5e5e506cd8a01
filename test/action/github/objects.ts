/**
 * GitHub REST objects as GitHub returns them (every field the OpenAPI description
 * requires), built from a few facts, for the local API server.
 */

export interface Account {
  login: string;
  id: number;
  type: 'User' | 'Bot' | 'Organization';
}

/** github-actions[bot]: who GITHUB_TOKEN writes as. */
export const GITHUB_ACTIONS_BOT: Account = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };

export interface Urls {
  /** e.g. http://127.0.0.1:1234/api/v3 (GitHub Enterprise Server's form) */
  api: string;
  /** e.g. http://127.0.0.1:1234 */
  web: string;
}

const ISO = '2026-11-20T10:00:00Z';

export function simpleUser(a: Account, u: Urls): Record<string, unknown> {
  // GitHub percent-encodes a bot's login in its URLs (github-actions%5Bbot%5D).
  const api = `${u.api}/users/${encodeURIComponent(a.login)}`;
  return {
    login: a.login,
    id: a.id,
    node_id: `U_${a.id}`,
    avatar_url: `${u.web}/avatars/u/${a.id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: a.type === 'Bot' ? `${u.web}/apps/${a.login.replace(/\[bot\]$/, '')}` : `${u.web}/${a.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: a.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

/** GET /user for a user's token: the private-user shape. */
export function privateUser(a: Account, u: Urls): Record<string, unknown> {
  return {
    ...simpleUser(a, u),
    user_view_type: 'private',
    name: a.login,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 1,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: ISO,
    updated_at: ISO,
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

export function repository(fullName: string, u: Urls, id: number): Record<string, unknown> {
  const [owner, name] = fullName.split('/') as [string, string];
  const api = `${u.api}/repos/${fullName}`;
  const urls = Object.fromEntries(
    (
      [
        ['archive_url', '/{archive_format}{/ref}'],
        ['assignees_url', '/assignees{/user}'],
        ['blobs_url', '/git/blobs{/sha}'],
        ['branches_url', '/branches{/branch}'],
        ['collaborators_url', '/collaborators{/collaborator}'],
        ['comments_url', '/comments{/number}'],
        ['commits_url', '/commits{/sha}'],
        ['compare_url', '/compare/{base}...{head}'],
        ['contents_url', '/contents/{+path}'],
        ['contributors_url', '/contributors'],
        ['deployments_url', '/deployments'],
        ['downloads_url', '/downloads'],
        ['events_url', '/events'],
        ['forks_url', '/forks'],
        ['git_commits_url', '/git/commits{/sha}'],
        ['git_refs_url', '/git/refs{/sha}'],
        ['git_tags_url', '/git/tags{/sha}'],
        ['hooks_url', '/hooks'],
        ['issue_comment_url', '/issues/comments{/number}'],
        ['issue_events_url', '/issues/events{/number}'],
        ['issues_url', '/issues{/number}'],
        ['keys_url', '/keys{/key_id}'],
        ['labels_url', '/labels{/name}'],
        ['languages_url', '/languages'],
        ['merges_url', '/merges'],
        ['milestones_url', '/milestones{/number}'],
        ['notifications_url', '/notifications{?since,all,participating}'],
        ['pulls_url', '/pulls{/number}'],
        ['releases_url', '/releases{/id}'],
        ['stargazers_url', '/stargazers'],
        ['statuses_url', '/statuses/{sha}'],
        ['subscribers_url', '/subscribers'],
        ['subscription_url', '/subscription'],
        ['tags_url', '/tags'],
        ['teams_url', '/teams'],
        ['trees_url', '/git/trees{/sha}'],
      ] as const
    ).map(([k, suffix]) => [k, api + suffix]),
  );
  return {
    id,
    node_id: `R_${id}`,
    name,
    full_name: fullName,
    owner: simpleUser({ login: owner, id: id + 1, type: 'Organization' }, u),
    private: false,
    html_url: `${u.web}/${fullName}`,
    description: null,
    fork: false,
    url: api,
    ...urls,
    clone_url: `${u.web}/${fullName}.git`,
    git_url: `git://127.0.0.1/${fullName}.git`,
    ssh_url: `git@127.0.0.1:${fullName}.git`,
    svn_url: `${u.web}/${fullName}`,
    mirror_url: null,
    homepage: null,
    language: 'Python',
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 1,
    default_branch: 'main',
    open_issues: 1,
    open_issues_count: 1,
    has_issues: true,
    has_projects: true,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    archived: false,
    disabled: false,
    license: null,
    pushed_at: ISO,
    created_at: ISO,
    updated_at: ISO,
  };
}

export interface PullRequestFacts {
  number: number;
  title: string;
  state: 'open' | 'closed';
  headRef: string;
  headSha: string;
  headRepo: string;
  baseRepo: string;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  author: Account;
}

/** A pull-request-simple, as GET /repos/{owner}/{repo}/commits/{sha}/pulls lists them. */
export function pullRequestSimple(pr: PullRequestFacts, u: Urls): Record<string, unknown> {
  const api = `${u.api}/repos/${pr.baseRepo}`;
  const html = `${u.web}/${pr.baseRepo}/pull/${pr.number}`;
  const link = (href: string) => ({ href });
  return {
    url: `${api}/pulls/${pr.number}`,
    id: 1000 + pr.number,
    node_id: `PR_${pr.number}`,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    commits_url: `${api}/pulls/${pr.number}/commits`,
    review_comments_url: `${api}/pulls/${pr.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pr.number}/comments`,
    statuses_url: `${api}/statuses/${pr.headSha}`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: simpleUser(pr.author, u),
    body: null,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: ISO,
    updated_at: ISO,
    closed_at: pr.mergedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: pr.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: { label: `${pr.headRepo.split('/')[0]}:${pr.headRef}`, ref: pr.headRef, repo: repository(pr.headRepo, u, 500), sha: pr.headSha, user: simpleUser(pr.author, u) },
    base: { label: `${pr.baseRepo.split('/')[0]}:main`, ref: 'main', repo: repository(pr.baseRepo, u, 400), sha: '0'.repeat(40), user: simpleUser({ login: pr.baseRepo.split('/')[0]!, id: 401, type: 'Organization' }, u) },
    _links: {
      self: link(`${api}/pulls/${pr.number}`),
      html: link(html),
      issue: link(`${api}/issues/${pr.number}`),
      comments: link(`${api}/issues/${pr.number}/comments`),
      review_comments: link(`${api}/pulls/${pr.number}/comments`),
      review_comment: link(`${api}/pulls/comments{/number}`),
      commits: link(`${api}/pulls/${pr.number}/commits`),
      statuses: link(`${api}/statuses/${pr.headSha}`),
    },
    author_association: 'MEMBER',
    auto_merge: null,
    draft: false,
  };
}

export interface StoredComment {
  id: number;
  issueNumber: number;
  repo: string;
  body: string;
  author: Account;
  createdAt: string;
  updatedAt: string;
}

export function issueComment(c: StoredComment, u: Urls): Record<string, unknown> {
  return {
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${u.api}/repos/${c.repo}/issues/comments/${c.id}`,
    html_url: `${u.web}/${c.repo}/pull/${c.issueNumber}#issuecomment-${c.id}`,
    body: c.body,
    user: simpleUser(c.author, u),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    issue_url: `${u.api}/repos/${c.repo}/issues/${c.issueNumber}`,
    author_association: c.author.type === 'Bot' ? 'NONE' : 'MEMBER',
  };
}

export interface StoredDeploymentStatus {
  id: number;
  state: string;
  description: string;
  environment: string;
  logUrl: string;
  environmentUrl: string;
  creator: Account;
  createdAt: string;
}

export interface StoredDeployment {
  id: number;
  repo: string;
  sha: string;
  ref: string;
  task: string;
  payload: Record<string, unknown> | string;
  environment: string;
  description: string | null;
  transient: boolean;
  production: boolean;
  creator: Account;
  createdAt: string;
  /** Oldest first. */
  statuses: StoredDeploymentStatus[];
}

/** A deployment, as POST/GET /repos/{owner}/{repo}/deployments answer it. */
export function deployment(d: StoredDeployment, u: Urls): Record<string, unknown> {
  const api = `${u.api}/repos/${d.repo}/deployments/${d.id}`;
  return {
    url: api,
    id: d.id,
    node_id: `DE_${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: simpleUser(d.creator, u),
    created_at: d.createdAt,
    updated_at: d.statuses.at(-1)?.createdAt ?? d.createdAt,
    statuses_url: `${api}/statuses`,
    repository_url: `${u.api}/repos/${d.repo}`,
    transient_environment: d.transient,
    production_environment: d.production,
  };
}

/** A deployment status, as POST/GET …/deployments/{id}/statuses answer it (target_url: the log_url, GitHub's legacy name). */
export function deploymentStatus(d: StoredDeployment, s: StoredDeploymentStatus, u: Urls): Record<string, unknown> {
  const api = `${u.api}/repos/${d.repo}/deployments/${d.id}`;
  return {
    url: `${api}/statuses/${s.id}`,
    id: s.id,
    node_id: `DES_${s.id}`,
    state: s.state,
    creator: simpleUser(s.creator, u),
    description: s.description,
    environment: s.environment,
    // "" when no log_url was given, as GitHub answers (api-server.ts KNOWN_SPEC_GAPS).
    target_url: s.logUrl,
    ...(s.logUrl ? { log_url: s.logUrl } : {}),
    ...(s.environmentUrl ? { environment_url: s.environmentUrl } : {}),
    created_at: s.createdAt,
    updated_at: s.createdAt,
    deployment_url: api,
    repository_url: `${u.api}/repos/${d.repo}`,
  };
}
