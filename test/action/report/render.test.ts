import { describe, expect, it } from 'vitest';
import type { CiContext } from '../../../src/ci-context.js';
import { RunFailedError } from '../../../src/errors.js';
import { commentMarker } from '../../../src/action/github/comment-marker.js';
import type { PipelineResult } from '../../../src/pipeline.js';
import { COMMENT_LIMIT, linkNote, renderComment, renderReport, renderWorkflows, SUMMARY_LIMIT, type ReportInput } from '../../../src/action/report/render.js';
import { ciContext } from '../../helpers/services.js';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const ci: CiContext = ciContext({
  sha: SHA,
  shortSha: SHA.slice(0, 7),
  repository: 'acme/quickstart',
  runId: '9001',
  runAttempt: '1',
  runNumber: '12',
  eventName: 'pull_request',
  pullRequestNumber: 7,
});
const PREFECT = 'https://prefect.example.com';
const RUN_ID = '0f9e5a52-4b8d-4c1e-9a36-1d2b3c4d5e6f';
const DEPLOYMENT_ID = '5b6c7d8e-1f20-4a3b-8c4d-5e6f7a8b9c0d';

const success: PipelineResult = {
  orchestrator: 'PrefectOrchestrator',
  runNoun: 'flow run',
  deploymentName: 'quickstart-pr-7',
  steps: [
    { step: 'package', status: 'success', durationMs: 84_200, detail: 'image ghcr.io/acme/quickstart:a1b2c3d' },
    { step: 'deploy', status: 'success', durationMs: 1_350, detail: 'deployment quickstart-flow/quickstart-pr-7' },
    { step: 'run', status: 'success', durationMs: 420, detail: `flow run ${RUN_ID} started` },
    { step: 'wait', status: 'success', durationMs: 192_000, detail: 'final state COMPLETED' },
  ],
  packaged: {
    files: ['prefect_files/run.py', 'Dockerfile'],
    changes: { 'prefect_files/run.py': 'updated', Dockerfile: 'unchanged' },
    entrypoint: 'prefect_files/run.py:build_all',
    image: 'ghcr.io/acme/quickstart:a1b2c3d',
    digest: 'sha256:3f1e9c0a5b7d2e4f6a8c0b1d3e5f7a9c1b3d5e7f9a1c3e5b7d9f1a3c5e7b9d1f',
  },
  deployment: { id: DEPLOYMENT_ID, name: 'quickstart-flow/quickstart-pr-7', url: `${PREFECT}/deployments/deployment/${DEPLOYMENT_ID}` },
  run: { id: RUN_ID, url: `${PREFECT}/runs/flow-run/${RUN_ID}`, state: 'COMPLETED', created: true },
};

const failure: PipelineResult = {
  ...success,
  steps: [...success.steps.slice(0, 3), { step: 'wait', status: 'failed', durationMs: 61_000, detail: "flow run ended FAILED: ValueError('the model diverged')" }],
  run: { ...success.run!, state: 'FAILED' },
  error: new RunFailedError(`Flow run ${RUN_ID} ended FAILED: Flow run encountered an exception: ValueError('the model diverged')\nlast log line: ValueError: the model diverged`),
};

const stopped: PipelineResult = {
  orchestrator: 'PrefectOrchestrator',
  runNoun: 'flow run',
  deploymentName: 'quickstart-pr-7',
  steps: [{ step: 'stop', status: 'success', durationMs: 640, detail: 'paused deployment quickstart-flow/quickstart-pr-7; cancelled 1 flow run' }],
  stopped: { stopped: true, detail: 'paused deployment quickstart-flow/quickstart-pr-7; cancelled 1 flow run' },
};

/** What the pipeline hands the progress hook as the wait starts: the run is linked, its end not known. */
const inProgress: PipelineResult = {
  ...success,
  steps: [...success.steps.slice(0, 3), { step: 'wait', status: 'running', durationMs: 0 }],
  run: { ...success.run!, state: 'SCHEDULED' },
};

const cases: Array<[string, ReportInput]> = [
  ['in-progress', { result: inProgress, ci, preview: { kind: 'pull_request', pullRequest: 7, closed: false } }],
  ['success', { result: success, ci, preview: { kind: 'pull_request', pullRequest: 7, closed: false } }],
  ['failure', { result: failure, ci, preview: { kind: 'pull_request', pullRequest: 7, closed: false } }],
  ['preview-stopped', { result: stopped, ci, preview: { kind: 'pull_request', pullRequest: 7, closed: true } }],
];

// One renderer for both: the snapshot files are what a reviewer reads in the PR and the job summary.
describe('the report, as job summary and PR comment', () => {
  it.each(cases)('%s: job summary', async (name, input) => {
    const notes = [linkNote('PR comment', 'https://github.com/acme/quickstart/pull/7#issuecomment-1900000000', 'updated on pull request #7.')];
    await expect(renderReport({ ...input, notes })).toMatchFileSnapshot(`__snapshots__/summary-${name}.md`);
  });

  it.each(cases)('%s: PR comment', async (name, input) => {
    const body = `${commentMarker(input.result!.deploymentName, 'acme/quickstart\nacme/quickstart/.github/workflows/deploy.yml')}\n${renderComment(input)}`;
    await expect(body).toMatchFileSnapshot(`__snapshots__/comment-${name}.md`);
  });

  it("a local run's file:// report is a path on the runner, not a link nobody can open", () => {
    const local: PipelineResult = {
      orchestrator: 'LocalOrchestrator',
      runNoun: 'run',
      deploymentName: 'quickstart',
      steps: [{ step: 'run', status: 'success', durationMs: 900, detail: 'run r1 COMPLETED' }],
      packaged: { files: ['prefect_files/run.py'], changes: { 'prefect_files/run.py': 'new' }, kept: ['Dockerfile'], entrypoint: 'prefect_files/run.py:f' },
      run: { id: 'r1', url: 'file:///home/runner/work/q/.lolpop-deploy/runs/r1/report.html', state: 'COMPLETED', created: true },
    };
    const md = renderReport({ result: local, ci });
    expect(md).toContain('- **run**: `r1` (on the runner: `/home/runner/work/q/.lolpop-deploy/runs/r1/report.html`)');
    expect(md).not.toContain('](file://');
    expect(md).toContain('- **files written**: `prefect_files/run.py` (new)');
    expect(md).toContain('- **files kept**: `Dockerfile` (yours: no lolpop-deploy header; used as it is)');
  });

  it('a progress report says which step is running and which are pending', () => {
    const md = renderReport({ result: { ...inProgress, steps: [{ step: 'package', status: 'running', durationMs: 0 }, { step: 'deploy', status: 'pending', durationMs: 0 }] }, ci });
    expect(md.split('\n')[0]).toBe('### ⏳ lolpop-deploy: quickstart-pr-7 (package in progress)');
    expect(md).toContain('| package | ⏳ running |  |  |');
    expect(md).toContain('| deploy | 🕒 pending |  |  |');
  });

  it('a config error before any step: the error, no table', () => {
    const md = renderReport({ ci, error: new RunFailedError('lolpop.yaml:8:7: orchestrator.deployment.deploy.work_pol: unknown key; check its spelling') });
    expect(md).toBe(
      '### ❌ lolpop-deploy\n\nReported by [workflow run #12](https://github.com/acme/quickstart/actions/runs/9001).\n\n' +
        '**Error:** lolpop.yaml:8:7: orchestrator.deployment.deploy.work_pol: unknown key; check its spelling\n',
    );
  });

  it('a run not waited for says its state is the state at start', () => {
    const md = renderReport({ result: { ...success, steps: success.steps.slice(0, 3), run: { ...success.run!, state: 'SCHEDULED' } }, ci });
    expect(md).toContain('- **state**: **SCHEDULED** (when started; `wait: true` waits for the final state)');
    expect(md).not.toContain('**final state**');
  });

  it('a re-run attempt links that attempt', () => {
    expect(renderReport({ result: success, ci: { ...ci, runAttempt: '2' } })).toContain(
      'Reported by [workflow run #12 (attempt 2)](https://github.com/acme/quickstart/actions/runs/9001/attempts/2).',
    );
  });

  it('a branch preview names its branch, and says when the deleted branch’s preview was stopped', () => {
    const pushed = { ...ci, eventName: 'push', pullRequestNumber: undefined };
    const deployed = renderReport({ result: { ...success, deploymentName: 'quickstart-feature-x' }, ci: pushed, preview: { kind: 'branch', branch: 'feature-x', closed: false } });
    expect(deployed).toContain('\n\nPreview of branch `feature-x`. Reported by [workflow run #12](https://github.com/acme/quickstart/actions/runs/9001).\n\n');
    const deleted = renderReport({ result: stopped, ci: { ...pushed, eventName: 'delete' }, preview: { kind: 'branch', branch: 'feature-x', closed: true } });
    expect(deleted).toContain('Preview of branch `feature-x`, which was deleted: what the preview deployed is stopped.');
    expect(renderReport({ result: success, ci: pushed, preview: { kind: 'branch', branch: 'odd`name', closed: false } })).toContain('Preview of branch `` odd`name ``.');
  });

  it('markup in an error cannot break the table or inject HTML', () => {
    const detail = 'a | b\n<script>x</script>';
    const md = renderReport({ result: { ...failure, steps: [{ step: 'wait', status: 'failed', durationMs: 1, detail }], error: new RunFailedError(detail) }, ci });
    expect(md).toContain('| wait | ❌ failed | 1 ms | a \\| b<br>&lt;script&gt;x&lt;/script&gt; |');
    // Outside the table a pipe is only a pipe.
    expect(md).toContain('**Error:** a | b<br>&lt;script&gt;x&lt;/script&gt;');
  });

  describe('whatever happens, under GitHub’s limits', () => {
    // A 5 MB error (a whole traceback, a log) in a step's detail and in the error.
    const huge = 'Traceback line that goes on and on; '.repeat(150_000);
    const input: ReportInput = {
      result: { ...failure, steps: failure.steps.map((s) => (s.step === 'wait' ? { ...s, detail: huge } : s)), error: new RunFailedError(huge) },
      ci,
      notes: ['a note after the error'],
    };

    it('the job summary stays under 1 MiB and keeps its table, the start of the error and the notes', () => {
      const md = renderReport(input);
      expect(Buffer.byteLength(md, 'utf8')).toBeLessThanOrEqual(SUMMARY_LIMIT);
      expect(SUMMARY_LIMIT).toBeLessThan(1024 * 1024);
      expect(md).toContain('| wait | ❌ failed | 1 min 1 s | Traceback line');
      expect(md).toMatch(/\*\*Error:\*\* Traceback line .*… \(\d+ more characters; see the step's log\)/);
      expect(md).toContain('> a note after the error');
    });

    it('the PR comment, marker included, stays under 65,536 characters', () => {
      const body = `${commentMarker('quickstart-pr-7'.repeat(100), 'acme/quickstart\nacme/quickstart/.github/workflows/deploy.yml')}\n${renderComment(input)}`;
      expect(body.length).toBeLessThanOrEqual(65_536);
      expect(COMMENT_LIMIT).toBeLessThan(65_536);
      expect(body).toContain('**Error:** Traceback line');
    });

    it('a report over the limit even so is cut at a line and says so', () => {
      const many: PipelineResult = { ...success, steps: Array.from({ length: 5000 }, () => ({ ...success.steps[0]!, detail: 'x'.repeat(290) })) };
      const md = renderComment({ result: many, ci });
      expect(md.length).toBeLessThanOrEqual(COMMENT_LIMIT);
      expect(md.endsWith('\n\n_(report truncated)_\n')).toBe(true);
      expect(md.split('\n').filter((l) => l.startsWith('| package |')).every((l) => l.endsWith(' |'))).toBe(true);
    });
  });
});

describe('the report of several workflows', () => {
  const outcomes = [
    { file: '/w/teams/a/lolpop.yaml', name: 'a', status: 'succeeded' as const, result: success },
    { file: '/w/teams/b/lolpop.yaml', name: 'b', status: 'failed' as const, result: failure, error: failure.error },
    { file: '/w/teams/c/lolpop.yaml', status: 'not-started' as const },
  ];

  it('a row per workflow, the errors, each report folded', () => {
    const md = renderWorkflows({ outcomes, ci, workdir: '/w' });
    const lines = md.split('\n');
    expect(lines[0]).toBe('### ❌ lolpop-deploy: 3 workflows, 1 failed');
    expect(lines.filter((l) => /^\| (a|b|) \| `teams\//.test(l))).toEqual([
      `| a | \`teams/a/lolpop.yaml\` | ✅ succeeded | [quickstart-flow/quickstart-pr-7](${PREFECT}/deployments/deployment/${DEPLOYMENT_ID}) | [${RUN_ID}](${PREFECT}/runs/flow-run/${RUN_ID}) | **COMPLETED** | 4 min 38 s |`,
      `| b | \`teams/b/lolpop.yaml\` | ❌ failed | [quickstart-flow/quickstart-pr-7](${PREFECT}/deployments/deployment/${DEPLOYMENT_ID}) | [${RUN_ID}](${PREFECT}/runs/flow-run/${RUN_ID}) | **FAILED** | 2 min 27 s |`,
      '|  | `teams/c/lolpop.yaml` | 🕒 not started |  |  |  |  |',
    ]);
    expect(md).toContain(`- **b**: Flow run ${RUN_ID} ended FAILED`);
    expect(md.match(/<details><summary>/g)).toHaveLength(2);
  });

  it('before they start: in progress, every row pending', () => {
    const pending = outcomes.map((o) => ({ file: o.file, status: 'not-started' as const }));
    const md = renderWorkflows({ outcomes: pending, ci, workdir: '/w', inProgress: true });
    expect(md.split('\n')[0]).toBe('### ⏳ lolpop-deploy: 3 workflows (in progress)');
    expect(md.match(/🕒 pending/g)).toHaveLength(3);
  });

  it('stays under the limit with many workflows', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ file: `/w/t${i}/lolpop.yaml`, name: `t${i}`, status: 'succeeded' as const, result: success }));
    expect(Buffer.byteLength(renderWorkflows({ outcomes: many, ci, workdir: '/w' }, COMMENT_LIMIT))).toBeLessThanOrEqual(COMMENT_LIMIT);
  });
});

describe('the run noun', () => {
  it("is the orchestrator's: an Airflow run is a DAG run in the summary and the comment, never a flow run", () => {
    const airflow: PipelineResult = {
      orchestrator: 'AirflowOrchestrator',
      runNoun: 'DAG run',
      deploymentName: 'tiny',
      steps: [{ step: 'run', status: 'success', durationMs: 900, detail: 'DAG run manual__1 queued' }],
      run: { id: 'manual__1', url: 'http://airflow.example/dags/tiny/runs/manual__1', state: 'SCHEDULED', created: true },
    };
    for (const md of [renderReport({ result: airflow, ci }), renderComment({ result: airflow, ci })]) {
      expect(md).toContain('- **DAG run**: [manual__1](http://airflow.example/dags/tiny/runs/manual__1)');
      expect(md).not.toMatch(/\bflow run/);
    }
  });
});
