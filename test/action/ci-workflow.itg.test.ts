import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO } from '../local/example.js';
import { defaultInputs, runBundledAction } from '../helpers/run-action.js';
import { service, tempDir } from '../helpers/services.js';
import { knownOrchestrators } from '../../src/orchestrators/registry.js';
import { condition, interpolate, type Contexts } from '../helpers/workflow-expressions.js';

const node24 = service('LOLPOP_TEST_NODE24');

interface Step {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
}
interface Workflow {
  on: { workflow_dispatch: { inputs: Record<string, { default?: unknown }> } };
  jobs: { action: { steps: Step[] } };
}

/** A checkout of this repository, as actions/checkout leaves it: the example in it, nothing generated. */
function checkout(): string {
  const root = tempDir('ci-workflow');
  cpSync(path.join(REPO, 'examples/quickstart'), path.join(root, 'examples/quickstart'), {
    recursive: true,
    filter: (src) => !/(\.lolpop-deploy|prefect_files|__pycache__)$/.test(src) && !src.endsWith('/Dockerfile'),
  });
  return root;
}

// The repository's own workflow, .github/workflows/ci.yml: its `action` job's step that
// uses this action is run with exactly its `with:` inputs (expressions evaluated as the
// runner would for a manual run with the default inputs), from the repository root, by
// the bundled action under Node 24; then the job's later steps run against its outputs.
describe.skipIf(!node24)("ci.yml's action job, as GitHub runs it on workflow_dispatch", () => {
  it('deploys and runs the quickstart to COMPLETED, with the manual inputs as run parameters', async () => {
    const workflow = parse(readFileSync(path.join(REPO, '.github/workflows/ci.yml'), 'utf8')) as Workflow;
    const steps = workflow.jobs.action.steps;
    const action = steps.find((s) => s.uses === './');
    expect(action, "ci.yml's action job has a step with uses: ./").toBeDefined();
    const root = checkout();
    const inputs = Object.fromEntries(Object.entries(workflow.on.workflow_dispatch.inputs).map(([k, v]) => [k, v.default]));
    const event = { inputs, ref: 'refs/heads/main', repository: { full_name: 'acme/lolpop-deploy', default_branch: 'main' } };
    const eventPath = path.join(root, '..', `${path.basename(root)}-event.json`);
    writeFileSync(eventPath, JSON.stringify(event));
    const contexts: Contexts = {
      github: { event_name: 'workflow_dispatch', event, repository: 'acme/lolpop-deploy', token: 'ghs_not-used-by-this-job' },
      inputs,
      steps: {},
    };
    const given = Object.fromEntries(Object.entries(action!.with ?? {}).map(([k, v]) => [k, interpolate(String(v), contexts)]));
    const defaults = Object.fromEntries(Object.entries(defaultInputs()).map(([k, v]) => [k, interpolate(v, contexts)]));

    const run = await runBundledAction({
      node: node24!,
      cwd: root,
      inputs: { ...defaults, ...given },
      env: {
        GITHUB_EVENT_NAME: 'workflow_dispatch',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REPOSITORY: 'acme/lolpop-deploy',
        GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_REF_NAME: 'main',
        GITHUB_RUN_ID: '4242',
        GITHUB_RUN_ATTEMPT: '1',
        GITHUB_RUN_NUMBER: '7',
      },
    });
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['run-state'], run.log).toBe('COMPLETED');
    // The manual input arrived as the runner's own parameter (dev.yaml's default is 0.7), none dropped.
    expect(run.log).toMatch(/Model accepted \(accuracy [\d.]+ >= 0\.500\)/);
    expect(run.log).not.toContain('Ignoring unknown parameters');
    // Nothing written into the repository root: the run used the example's folder.
    expect(existsSync(path.join(root, 'Dockerfile'))).toBe(false);
    expect(existsSync(path.join(root, 'prefect_files'))).toBe(false);

    // The job's later steps, with this step's outputs: each that runs must pass.
    contexts.steps = { [action!.id ?? '']: { outputs: run.outputs } };
    for (const step of steps.slice(steps.indexOf(action!) + 1)) {
      if (!step.run || !condition(step.if, contexts)) continue;
      const script = interpolate(step.run, contexts);
      expect(() => execFileSync('bash', ['-e', '-c', script], { cwd: root, stdio: 'pipe' }), script).not.toThrow();
    }
  });
});

// Kept here beside the job it guards: a working-directory that does not exist is said to be one.
describe.skipIf(!node24)('working-directory', () => {
  it('a nonexistent one is reported as such, not as a missing config file', async () => {
    const root = checkout();
    const run = await runBundledAction({
      node: node24!,
      cwd: root,
      inputs: { 'working-directory': 'examples/quickstrat', config: 'lolpop.yaml', comment: 'never' },
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'acme/lolpop-deploy' },
    });
    expect(run.status).not.toBe(0);
    const errors = run.log.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors, run.log).toHaveLength(1);
    expect(errors[0]).toContain(`Working directory ${path.join(root, 'examples/quickstrat')} does not exist`);
    expect(errors[0]).not.toContain('Config file');
  });
});

describe.skipIf(!node24)('decorator.orchestrator in the action', () => {
  const typo = (root: string) => {
    const dir = path.join(root, 'examples/quickstart');
    const text = readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8').replace(/^orchestrator:/m, 'decorator:\n  orchestrator: PrefectOrchestrater\norchestrator:');
    writeFileSync(path.join(dir, 'lolpop.yaml'), text);
    return dir;
  };

  it('an unknown name fails the step, naming the known ones and the closest; nothing runs', async () => {
    const dir = typo(checkout());
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { config: 'lolpop.yaml', comment: 'never' },
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'acme/lolpop-deploy' },
    });
    expect(run.status).not.toBe(0);
    const line =
      "lolpop.yaml:10:3: decorator.orchestrator: unknown orchestrator 'PrefectOrchestrater' (did you mean PrefectOrchestrator?); " +
      `lolpop-deploy deploys with ${knownOrchestrators().join(', ')}. Fix the name, or choose one with the orchestrator input`;
    expect(run.log.split('\n')).toContainEqual(expect.stringMatching(/^::error .*file=lolpop\.yaml,line=10,col=3::/));
    expect(run.log.split('\n').find((l) => l.startsWith('::error '))?.replace(/^::error [^:]*::/, '')).toBe(line);
    expect(existsSync(path.join(dir, '.lolpop-deploy'))).toBe(false);
    expect(run.outputs['run-state'] ?? '').toBe('');
  });

  it('the orchestrator input chooses instead, and the run completes', async () => {
    const dir = typo(checkout());
    const run = await runBundledAction({
      node: node24!,
      cwd: dir,
      inputs: { config: 'lolpop.yaml', orchestrator: 'LocalOrchestrator', comment: 'never', wait: 'true' },
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_REPOSITORY: 'acme/lolpop-deploy' },
    });
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['run-state']).toBe('COMPLETED');
  });
});
