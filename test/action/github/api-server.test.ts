import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_TOKEN, GitHubApiServer } from './api-server.js';
import { GITHUB_ACTIONS_BOT } from './objects.js';

// The server is only worth its checks if they bite: each wrong request below is one
// our code could make, and each must be refused and recorded, as GitHub would refuse it.
describe('the local GitHub API checks requests and responses against GitHub’s OpenAPI description', () => {
  let api: GitHubApiServer;
  beforeAll(async () => {
    api = await GitHubApiServer.start();
  });
  afterAll(() => api.close());

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; violations: string[] }> {
    const before = api.violations.length;
    const res = await fetch(`${api.urls.api}${path}`, {
      method,
      headers: { authorization: `token ${GITHUB_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return { status: res.status, violations: api.violations.slice(before) };
  }

  it.each([
    ['a misspelt path', 'POST', '/repos/acme/app/issue/7/comments', { body: 'x' }, 404, /no such path/],
    ['a method the path does not take', 'PUT', '/repos/acme/app/issues/comments/1', { body: 'x' }, 404, /takes GET, PATCH, DELETE, not PUT/],
    ['a body without its required field', 'POST', '/repos/acme/app/issues/7/comments', { bodyy: 'x' }, 422, /body: \/ must have required property 'body'/],
    ['a body of the wrong type', 'PATCH', '/repos/acme/app/issues/comments/1', { body: 42 }, 422, /body: \/body must be string/],
    ['a non-integer path parameter', 'GET', '/repos/acme/app/issues/seven/comments', undefined, 422, /issue_number must be integer/],
    ['an unknown query parameter', 'GET', '/repos/acme/app/issues/7/comments?perpage=100', undefined, 422, /must NOT have additional properties/],
    ['a per_page GitHub does not accept', 'GET', '/repos/acme/app/issues/7/comments?per_page=x', undefined, 422, /per_page must be integer/],
    ['a body on a DELETE that takes none', 'DELETE', '/repos/acme/app/issues/comments/1', { body: 'x' }, 422, /takes no request body/],
  ])('refuses %s', async (_what, method, path, body, status, message) => {
    const r = await call(method, path, body);
    expect(r.status).toBe(status);
    expect(r.violations.join('\n')).toMatch(message);
  });

  it('accepts a request GitHub accepts, and answers in GitHub’s shape', async () => {
    const r = await call('POST', '/repos/acme/app/issues/7/comments', { body: 'hello' });
    expect(r).toEqual({ status: 201, violations: [] });
    expect(api.commentsOn('acme/app', 7)).toMatchObject([{ body: 'hello', author: GITHUB_ACTIONS_BOT }]);
  });

  it('flags a response that breaks the description', async () => {
    api.tamper = (_op, body) => (body as object[]).map((c) => ({ ...c, html_url: undefined }));
    try {
      const r = await call('GET', '/repos/acme/app/issues/7/comments');
      expect(r.status).toBe(200);
      expect(r.violations.join('\n')).toMatch(/must have required property 'html_url'/);
    } finally {
      api.tamper = undefined;
    }
  });
});
