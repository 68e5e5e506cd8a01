import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_TOKEN, GitHubApiServer } from '../action/github/api-server.js';
import { githubEnv, PR, REPOSITORY, seedPullRequests } from '../action/github/events.js';
import { runBundledAction } from '../helpers/run-action.js';
import { FLOWS_PY, service, tempDir } from '../helpers/services.js';
import { html, injectedMarkup, visibleText } from './markdown-check.js';

const node24 = service('LOLPOP_TEST_NODE24');

// Issue 19: a Prefect server answers a run with an id and a state message made of Markdown
// and HTML. The bundled action, under Node 24 as GitHub runs it (steps deploy,run, wait:
// true), must show them as text in the job summary and the PR comment, and its run-url
// output must stay a page of the server the user named, the id one segment of it.
const EVIL = 'https://evil.example';
const RUN_ID = `r-1)![pwned](${EVIL}/pixel.png)[sign in](${EVIL}/login?x=`;
const MESSAGE = `Crashed: ![x](${EVIL}/x.png) [docs](${EVIL}/phish) <img src=x onerror=alert(1)> ping @octocat, closes #1, see ${EVIL}/help`;

/** Just enough of Prefect 3's API for deploy, run and wait, hostile in what it says of the run. */
function hostilePrefect(): Server {
  const flowRun = (type: string) => ({ id: RUN_ID, name: 'hostile-run', deployment_id: 'd-1', state: { type, name: type, message: type === 'FAILED' ? MESSAGE : null } });
  return createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = req.url ?? '';
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.method === 'GET' && url === '/api/admin/version') return answer(200, '3.8.8');
      if (req.method === 'POST' && url === '/api/flows/') return answer(200, { id: 'f-1' });
      if (req.method === 'GET' && url.startsWith('/api/work_pools/')) return answer(200, { name: 'ci-process', type: 'process' });
      if (req.method === 'GET' && url.startsWith('/api/deployments/name/')) return answer(404, { detail: 'Deployment not found' });
      if (req.method === 'POST' && url === '/api/deployments/') {
        const spec = JSON.parse(body) as { name: string };
        return answer(200, { id: 'd-1', name: spec.name, flow_id: 'f-1', work_pool_name: 'ci-process' });
      }
      if (req.method === 'POST' && url === '/api/deployments/d-1/create_flow_run') return answer(201, flowRun('SCHEDULED'));
      if (req.method === 'GET' && url.startsWith('/api/flow_runs/')) return answer(200, flowRun('FAILED'));
      if (req.method === 'POST' && url === '/api/logs/filter') return answer(200, []);
      answer(404, { detail: `no route ${req.method} ${url}` });
    });
  });
}

describe.skipIf(!node24)('the bundled action under Node 24, against a Prefect server that answers with markup', () => {
  let prefect: Server;
  let api: GitHubApiServer;
  let prefectUrl: string;

  beforeAll(async () => {
    prefect = hostilePrefect();
    await new Promise<void>((resolve) => prefect.listen(0, '127.0.0.1', resolve));
    prefectUrl = `http://127.0.0.1:${(prefect.address() as AddressInfo).port}`;
    api = await GitHubApiServer.start();
    seedPullRequests(api);
  });
  afterAll(async () => {
    api?.close();
    await new Promise((resolve) => prefect?.close(resolve));
  });

  it("a run id and a state message from the server are text in the summary and the comment, and run-url is the server's page", async () => {
    const dir = tempDir('text-action');
    mkdirSync(path.join(dir, 'flows'));
    writeFileSync(path.join(dir, 'flows/flows.py'), FLOWS_PY);
    writeFileSync(
      path.join(dir, 'lolpop.yaml'),
      'decorator:\n  orchestrator: PrefectOrchestrator\norchestrator:\n  deployment:\n    name: hostile\n' +
        '    deploy:\n      work_pool: ci-process\n      flow_entrypoint: flows/flows.py:hello\n    run:\n      poll_interval: 1s\n',
    );
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run', wait: 'true', 'wait-timeout': '30s' },
      env: { ...githubEnv('pull_request.opened', api), PREFECT_API_URL: `${prefectUrl}/api` },
      comments: () => api.comments.map((c) => c.body),
    });
    // The run ended FAILED (the server says so): the step fails, the report and outputs are still written.
    expect(run.status, run.log).toBe(1);
    expect(api.violations).toEqual([]);

    const runUrl = new URL(run.outputs['run-url']!);
    expect(runUrl.origin).toBe(prefectUrl);
    expect(runUrl.pathname).toBe(`/runs/flow-run/${encodeURIComponent(RUN_ID)}`);
    expect(run.outputs['run-id']).toBe(RUN_ID);

    const [comment] = api.commentsOn(REPOSITORY, PR);
    expect(comment, run.log).toBeDefined();
    for (const report of [run.summary, comment!.body]) {
      expect(report).toContain('FAILED');
      expect(injectedMarkup([prefectUrl, api.urls.web], report)).toEqual([]);
      // Shown, as text: the reader still sees what the server said.
      expect(visibleText(html(report)).replace(/\u200d/g, '')).toContain('<img src=x onerror=alert(1)> ping @octocat, closes #1');
    }
  });
});
