import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { githubOpenApi, type MatchedOperation } from './openapi.js';
import {
  deployment,
  deploymentStatus,
  GITHUB_ACTIONS_BOT,
  issueComment,
  privateUser,
  pullRequestSimple,
  type Account,
  type PullRequestFacts,
  type StoredComment,
  type StoredDeployment,
  type Urls,
} from './objects.js';

/** Who a token is, to the server. */
export interface TokenIdentity {
  account: Account;
  /** An installation token (GITHUB_TOKEN, a GitHub App's): GET /user refuses it. */
  installation: boolean;
  /** A fork's pull_request token, or `permissions: pull-requests: read`: writes get 403. */
  readOnly?: boolean;
  /** A token whose workflow did not grant `deployments: write`: deployment writes get 403. */
  noDeployments?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  operationId?: string;
  status: number;
  body?: unknown;
}

/** The token the tests give the action as GITHUB_TOKEN. */
export const GITHUB_TOKEN = 'ghs_workflowtoken000000000000000000000';
export const READ_ONLY_TOKEN = 'ghs_readonlytoken000000000000000000000';
export const NO_DEPLOYMENTS_TOKEN = 'ghs_nodeploymentstoken0000000000000000';
export const USER_TOKEN = 'ghp_usertoken00000000000000000000000000';
export const OCTOCAT: Account = { login: 'octocat', id: 583231, type: 'User' };

/**
 * Where GitHub's answers break its own description, answered as GitHub answers: a
 * deployment status given no log_url has `target_url: ""`, which `format: uri` refuses.
 */
const KNOWN_SPEC_GAPS = [/^response 201: \/target_url must match format "uri"/];

const FORBIDDEN = { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' };

/**
 * A local GitHub REST API on 127.0.0.1, served under /api/v3 as GitHub Enterprise
 * Server serves it. It keeps state (comments per issue with ids, html_url and
 * author; the pull requests of each commit) and checks EVERY request and EVERY
 * response against GitHub's OpenAPI description: a wrong method, path, query or
 * body is answered as GitHub would (404/400) and recorded in `violations`, which
 * each test asserts empty.
 */
export class GitHubApiServer {
  readonly violations: string[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly comments: StoredComment[] = [];
  readonly pulls = new Map<string, PullRequestFacts[]>();
  readonly tokens = new Map<string, TokenIdentity>([
    [GITHUB_TOKEN, { account: GITHUB_ACTIONS_BOT, installation: true }],
    [READ_ONLY_TOKEN, { account: GITHUB_ACTIONS_BOT, installation: true, readOnly: true }],
    [NO_DEPLOYMENTS_TOKEN, { account: GITHUB_ACTIONS_BOT, installation: true, noDeployments: true }],
    [USER_TOKEN, { account: OCTOCAT, installation: false }],
  ]);
  /** GitHub Deployments, oldest first, each with its statuses. */
  readonly deployments: StoredDeployment[] = [];
  private nextDeploymentId = 3_100_000_000;
  private nextStatusId = 4_200_000_000;
  /**
   * Answers to give instead of the real one, per operation, first in first out: a 502
   * from GitHub's front end, a 403 secondary rate limit with Retry-After. For the
   * tests that Octokit's retry and throttling plugins do their job.
   */
  readonly faults: Array<{ operationId: string; status: number; body: unknown; headers?: Record<string, string> }> = [];
  /** Changes a response before it is checked and sent; for the test that the checker bites. */
  tamper?: (operationId: string, body: unknown) => unknown;
  private nextCommentId = 1_900_000_000;
  private readonly openapi = githubOpenApi();

  private constructor(
    private readonly server: Server,
    readonly urls: Urls,
  ) {}

  static async start(): Promise<GitHubApiServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const web = `http://127.0.0.1:${port}`;
    const api = new GitHubApiServer(server, { api: `${web}/api/v3`, web });
    server.on('request', (req, res) => void api.handle(req, res));
    return api;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A comment someone already wrote, e.g. a person's, or 249 others before ours. */
  addComment(repo: string, issueNumber: number, body: string, author: Account): StoredComment {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const comment: StoredComment = { id: this.nextCommentId++, repo, issueNumber, body, author, createdAt: now, updatedAt: now };
    this.comments.push(comment);
    return comment;
  }

  commentsOn(repo: string, issueNumber: number): StoredComment[] {
    return this.comments.filter((c) => c.repo === repo && c.issueNumber === issueNumber);
  }

  /** The calls that changed something (not GraphQL's viewer query, a POST that reads), as "METHOD operationId". */
  writes(): string[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.operationId !== 'graphql').map((r) => `${r.method} ${r.operationId ?? r.path} ${r.status}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.urls.web);
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const record: RecordedRequest = { method, path: url.pathname + url.search, status: 0 };
    this.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}, op?: MatchedOperation) => {
      if (op) {
        const checked = this.tamper ? this.tamper(op.operationId, body) : body;
        for (const e of this.openapi.validateResponse(op, status, checked)) {
          if (!KNOWN_SPEC_GAPS.some((gap) => gap.test(e))) this.violations.push(`response to ${method} ${record.path}: ${e}`);
        }
        body = checked;
      }
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };

    if (url.pathname === '/api/graphql') return this.graphql(req, method, raw, record, reply);
    if (!url.pathname.startsWith('/api/v3/')) {
      this.violations.push(`${method} ${url.pathname}: not under GITHUB_API_URL (/api/v3)`);
      return reply(404, { message: 'Not Found' });
    }
    const apiPath = url.pathname.slice('/api/v3'.length);
    const op = this.openapi.match(method, apiPath);
    if ('error' in op) {
      this.violations.push(op.error);
      return reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    }
    record.operationId = op.operationId;
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        this.violations.push(`${method} ${apiPath}: the body is not JSON`);
        return reply(400, { message: 'Problems parsing JSON' }, {}, op);
      }
    }
    record.body = body;
    const problems = this.openapi.validateRequest(op, url.searchParams, body, req.headers['content-type'] ?? '');
    if (problems.length > 0) {
      this.violations.push(...problems.map((p) => `${method} ${apiPath} (${op.operationId}): ${p}`));
      return reply(422, { message: 'Invalid request.', documentation_url: 'https://docs.github.com/rest', status: '422' }, {}, op);
    }
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const identity = token ? this.tokens.get(token) : undefined;
    if (!identity) return reply(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }, {}, op);
    const fault = this.faults.findIndex((f) => f.operationId === op.operationId);
    if (fault !== -1) {
      const [f] = this.faults.splice(fault, 1);
      return reply(f!.status, f!.body, f!.headers ?? {});
    }
    const [status, payload, headers] = this.operation(op, url, body as Record<string, unknown> | undefined, identity);
    reply(status, payload, headers, op);
  }

  /**
   * GitHub's GraphQL endpoint (/api/graphql on GitHub Enterprise Server), for the one
   * query the action makes: `viewer { login }`, who the token is — the bot's login for
   * an installation token, as GitHub answers it. Any other query is a violation.
   */
  private graphql(req: IncomingMessage, method: string, raw: string, record: RecordedRequest, reply: (status: number, body: unknown) => void): void {
    record.operationId = 'graphql';
    let query: unknown;
    try {
      query = (JSON.parse(raw) as { query?: unknown }).query;
    } catch {
      query = undefined;
    }
    if (method !== 'POST' || typeof query !== 'string' || query.replace(/\s+/g, ' ').trim() !== 'query { viewer { login } }') {
      this.violations.push(`${method} /api/graphql: not the viewer query: ${raw}`);
      return reply(400, { message: 'Problems parsing JSON', documentation_url: 'https://docs.github.com/graphql' });
    }
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const identity = token ? this.tokens.get(token) : undefined;
    if (!identity) return reply(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/graphql' });
    reply(200, { data: { viewer: { login: identity.account.login } } });
  }

  private operation(op: MatchedOperation, url: URL, body: Record<string, unknown> | undefined, who: TokenIdentity): [number, unknown, Record<string, string>?] {
    const p = op.pathParams;
    const repo = `${p.owner}/${p.repo}`;
    switch (op.operationId) {
      case 'users/get-authenticated':
        return who.installation ? [403, FORBIDDEN] : [200, privateUser(who.account, this.urls)];
      case 'repos/list-pull-requests-associated-with-commit': {
        const all = (this.pulls.get(p.commit_sha!) ?? []).filter((pr) => pr.baseRepo === repo).map((pr) => pullRequestSimple(pr, this.urls));
        return this.page(all, url);
      }
      case 'issues/list-comments': {
        const all = this.commentsOn(repo, Number(p.issue_number)).map((c) => issueComment(c, this.urls));
        return this.page(all, url);
      }
      case 'issues/create-comment': {
        if (who.readOnly) return [403, FORBIDDEN];
        const c = this.addComment(repo, Number(p.issue_number), String(body!.body), who.account);
        const json = issueComment(c, this.urls);
        return [201, json, { location: String(json.url) }];
      }
      case 'issues/update-comment': {
        const c = this.comments.find((x) => x.id === Number(p.comment_id) && x.repo === repo);
        if (!c) return [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }];
        if (who.readOnly) return [403, FORBIDDEN];
        c.body = String(body!.body);
        c.updatedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        return [200, issueComment(c, this.urls)];
      }
      case 'issues/delete-comment': {
        const i = this.comments.findIndex((x) => x.id === Number(p.comment_id) && x.repo === repo);
        if (i === -1) return [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }];
        if (who.readOnly) return [403, FORBIDDEN];
        this.comments.splice(i, 1);
        return [204, undefined];
      }
      case 'repos/create-deployment': {
        if (who.readOnly || who.noDeployments) return [403, FORBIDDEN];
        const b = body!;
        const environment = typeof b.environment === 'string' ? b.environment : 'production';
        const d: StoredDeployment = {
          id: this.nextDeploymentId++,
          repo,
          sha: String(b.ref),
          ref: String(b.ref),
          task: typeof b.task === 'string' ? b.task : 'deploy',
          payload: (b.payload as StoredDeployment['payload'] | undefined) ?? {},
          environment,
          description: typeof b.description === 'string' ? b.description : null,
          transient: b.transient_environment === true,
          // GitHub's default: true for the environment named production only.
          production: typeof b.production_environment === 'boolean' ? b.production_environment : environment === 'production',
          creator: who.account,
          createdAt: now(),
          statuses: [],
        };
        this.deployments.push(d);
        return [201, deployment(d, this.urls)];
      }
      case 'repos/list-deployments': {
        const q = url.searchParams;
        const matches = (d: StoredDeployment) =>
          d.repo === repo &&
          (!q.get('sha') || d.sha === q.get('sha')) &&
          (!q.get('ref') || d.ref === q.get('ref')) &&
          (!q.get('task') || d.task === q.get('task')) &&
          (!q.get('environment') || d.environment === q.get('environment'));
        return this.page(this.deployments.filter(matches).reverse().map((d) => deployment(d, this.urls)), url);
      }
      case 'repos/create-deployment-status': {
        const d = this.deployments.find((x) => x.id === Number(p.deployment_id) && x.repo === repo);
        if (!d) return [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }];
        if (who.readOnly || who.noDeployments) return [403, FORBIDDEN];
        const b = body!;
        const status = this.addStatus(d, String(b.state), who.account, {
          description: typeof b.description === 'string' ? b.description : '',
          logUrl: String(b.log_url ?? b.target_url ?? ''),
          environmentUrl: typeof b.environment_url === 'string' ? b.environment_url : '',
        });
        // auto_inactive (default true): the earlier successful deployments of a non-transient, non-production environment.
        if (status.state === 'success' && b.auto_inactive !== false) {
          for (const other of this.deployments) {
            if (other.id < d.id && other.repo === repo && other.environment === d.environment && !other.transient && !other.production && other.statuses.at(-1)?.state === 'success') {
              this.addStatus(other, 'inactive', who.account, { description: '', logUrl: other.statuses.at(-1)!.logUrl, environmentUrl: '' });
            }
          }
        }
        return [201, deploymentStatus(d, status, this.urls)];
      }
      case 'repos/list-deployment-statuses': {
        const d = this.deployments.find((x) => x.id === Number(p.deployment_id) && x.repo === repo);
        if (!d) return [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' }];
        return this.page([...d.statuses].reverse().map((s) => deploymentStatus(d, s, this.urls)), url);
      }
      default:
        this.violations.push(`${op.operationId}: a real GitHub operation this server does not implement`);
        return [404, { message: 'Not Found' }];
    }
  }

  private addStatus(d: StoredDeployment, state: string, creator: Account, fields: { description: string; logUrl: string; environmentUrl: string }) {
    const status = { id: this.nextStatusId++, state, environment: d.environment, creator, createdAt: now(), ...fields };
    d.statuses.push(status);
    return status;
  }

  /** The states each deployment of `environment` went through, oldest deployment first. */
  deploymentHistory(repo: string, environment: string): Array<{ id: number; states: string[] }> {
    return this.deployments.filter((d) => d.repo === repo && d.environment === environment).map((d) => ({ id: d.id, states: d.statuses.map((s) => s.state) }));
  }

  /** GitHub's pagination: per_page (default 30, at most 100), page, and a Link header. */
  private page(all: unknown[], url: URL): [number, unknown, Record<string, string>] {
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
    const page = Number(url.searchParams.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const at = (n: number) => {
      const u = new URL(url.href.replace(this.urls.web, this.urls.web));
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(n));
      return `<${u.href}>`;
    };
    const links: string[] = [];
    if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
    if (page > 1) links.push(`${at(1)}; rel="first"`, `${at(page - 1)}; rel="prev"`);
    return [200, all.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {}];
  }
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
