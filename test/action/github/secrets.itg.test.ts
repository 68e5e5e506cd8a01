import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBundledAction } from '../../helpers/run-action.js';
import { service, tempDir } from '../../helpers/services.js';
import { GITHUB_TOKEN, GitHubApiServer } from './api-server.js';
import { githubEnv, PR, REPOSITORY, seedPullRequests } from './events.js';

const node24 = service('LOLPOP_TEST_NODE24');
const SECRET = 'hunter2-0f9e8d7c';

// The runner masks its log, but a PR comment goes out through the API unmasked:
// a secret in an error (here a ${VAR} that ends up in the run's last log line)
// must be redacted before the comment and the summary are written.
describe.skipIf(!node24)('secrets never reach the PR comment or the job summary', () => {
  let api: GitHubApiServer;
  beforeAll(async () => {
    api = await GitHubApiServer.start();
    seedPullRequests(api);
  });
  afterAll(() => api?.close());

  it('a failing run whose error names a secret', async () => {
    const project = tempDir('secret');
    for (const f of ['quickstart_runner.py', 'train.csv', 'test.csv', 'dev.yaml']) {
      copyFileSync(path.join('examples/quickstart', f), path.join(project, f));
    }
    writeFileSync(
      path.join(project, 'lolpop.yaml'),
      `decorator: {orchestrator: LocalOrchestrator}
orchestrator:
  deployment:
    name: secretive
    type: local
    package: {lolpop_class: QuickstartRunner, lolpop_module: quickstart_runner, config_file: dev.yaml, lolpop_install_location: ""}
    deploy: {flow_entrypoint: "flows/\${LPD_SECRET}.py:main"}
    run: {wait: true}
`,
    );
    const run = await runBundledAction({
      node: node24!,
      cwd: project,
      inputs: { 'github-token': GITHUB_TOKEN, steps: 'deploy,run' },
      env: { ...githubEnv('pull_request.opened', api, '4242'), LPD_SECRET: SECRET },
      comments: () => api.comments.map((c) => c.body),
    });
    expect(run.status).toBe(1);
    // The error did name it (the flow file flows/<secret>.py), and the action's own
    // redaction hid it in the log before the runner's masking had to.
    expect(run.log).toMatch(/flows\/\*\*\*\.py/);
    expect(run.log.split('\n').filter((l) => l.includes(SECRET) && !l.startsWith('::add-mask::'))).toEqual([]);
    const [comment] = api.commentsOn(REPOSITORY, PR).filter((c) => c.body.includes('lolpop-deploy:secretive'));
    expect(comment?.body, run.log).toContain('ended FAILED');
    expect(comment?.body).toContain('***');
    expect(comment?.body).not.toContain(SECRET);
    expect(run.summary).toContain('***');
    expect(run.summary).not.toContain(SECRET);
    expect(JSON.stringify(run.outputs)).not.toContain(SECRET);
  });
});
