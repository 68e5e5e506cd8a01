import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitHubDeployments, type DeploymentsRequest, type InFlightDeployment } from '../../../src/action/github/deployments.js';
import { UserError } from '../../../src/errors.js';
import { MemoryLogger } from '../../../src/logger.js';
import type { PipelineResult } from '../../../src/pipeline.js';
import { GITHUB_TOKEN, GitHubApiServer } from './api-server.js';
import { ciFor, REPOSITORY } from './events.js';

const LIMITS = { tryTimeoutMs: 1000, budgetMs: 4000 };

// The deployments of one step against the GitHub stand-in (OpenAPI-checked), in process:
// the paths the bundled-action tests do not take.
describe('GitHubDeployments', () => {
  let api: GitHubApiServer;

  beforeAll(async () => {
    api = await GitHubApiServer.start();
  });
  afterAll(() => api?.close());
  afterEach(() => {
    expect(api.violations).toEqual([]);
  });

  function deployments(environment: string, logger: MemoryLogger, saved: InFlightDeployment[][] = [], steps: DeploymentsRequest['steps'] = ['deploy', 'run']) {
    const request: DeploymentsRequest = { environment, token: GITHUB_TOKEN, steps, several: false };
    return new GitHubDeployments(request, ciFor('push.no-pr', api), logger, (inFlight) => saved.push([...inFlight]), { limits: LIMITS, retries: 0 });
  }
  const ok = (name: string): Promise<PipelineResult> => Promise.resolve({ orchestrator: 'LocalOrchestrator', runNoun: 'run', deploymentName: name, steps: [] });

  it('a workflow that could not run: error, saying why (redacted), and the throw goes on', async () => {
    const logger = new MemoryLogger();
    logger.addSecret('hunter2-secret');
    const saved: InFlightDeployment[][] = [];
    const d = deployments('err', logger, saved);
    await expect(d.around('quickstart', () => Promise.reject(new UserError('the server refused password hunter2-secret')))).rejects.toThrow('hunter2-secret');
    const [history] = api.deploymentHistory(REPOSITORY, 'err');
    expect(history!.states).toEqual(['in_progress', 'error']);
    expect(api.deployments.at(-1)!.statuses[1]!.description).toBe('could not run: the server refused password ***');
    // Saved for the post step while in flight, then no longer.
    expect(saved.map((s) => s.map((x) => x.id))).toEqual([[history!.id], []]);
  });

  it('a GitHub that fails (502) warns and the steps go on; the next workflow asks again', async () => {
    const logger = new MemoryLogger();
    const d = deployments('flaky', logger);
    api.faults.push({ operationId: 'repos/create-deployment', status: 502, body: { message: 'Server Error' } });
    let ran = 0;
    await d.around('first', () => (ran++, ok('first')));
    expect(ran).toBe(1);
    expect(logger.lines.filter((l) => l.startsWith('warning'))).toEqual([
      expect.stringMatching(/^warning: Failed to create the GitHub deployment of first in environment flaky: GitHub answered 502 to POST \/api\/v3\/repos\/acme\/quickstart\/deployments: /),
    ]);
    await d.around('second', () => ok('second'));
    expect(api.deploymentHistory(REPOSITORY, 'flaky').map((h) => h.states)).toEqual([['in_progress', 'success']]);
    expect(d.ids.has('first')).toBe(false);
    expect(d.ids.has('second')).toBe(true);
  });

  it('plan, and package alone, make no GitHub call', async () => {
    const before = api.requests.length;
    for (const steps of [['plan', 'deploy'], ['package']] as Array<DeploymentsRequest['steps']>) {
      await deployments('quiet', new MemoryLogger(), [], steps).around('quickstart', () => ok('quickstart'));
    }
    expect(api.requests.length).toBe(before);
  });

  it('a stop that failed leaves the deployments as they were', async () => {
    await deployments('kept', new MemoryLogger()).around('quickstart', () => ok('quickstart'));
    const failed = Promise.resolve({ orchestrator: 'LocalOrchestrator', runNoun: 'run', deploymentName: 'quickstart', steps: [], error: new UserError('not stopped') });
    await deployments('kept', new MemoryLogger(), [], ['stop']).around('quickstart', () => failed);
    expect(api.deploymentHistory(REPOSITORY, 'kept').map((h) => h.states)).toEqual([['in_progress', 'success']]);
  });
});
