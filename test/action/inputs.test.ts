import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { readInputs } from '../../src/action/inputs.js';

/** Sets INPUT_* as the runner does: every input of action.yml, its default unless given. */
function setInputs(given: Record<string, string>): void {
  const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, { default?: string }> };
  for (const [name, spec] of Object.entries(action.inputs)) {
    process.env[`INPUT_${name.toUpperCase()}`] = given[name] ?? spec.default ?? '';
  }
}

afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('INPUT_')) delete process.env[key];
});

describe('readInputs, with INPUT_* as the runner passes them', () => {
  it("with action.yml's defaults only, overrides nothing in the config", () => {
    setInputs({});
    const settings = readInputs();
    expect(settings.overrides.kwargs).toEqual({});
    expect(settings.overrides.deploymentName).toBeUndefined();
    expect(settings.steps).toEqual(['package', 'deploy', 'run']);
    expect(settings.comment).toBe('auto');
    expect(settings.summary).toBe(true);
    expect(settings.preview).toBe(false);
    expect(settings.productionBranch).toBeUndefined();
    expect(settings.configFiles).toHaveLength(1);
    expect(settings.configFiles[0]).toMatch(/\/lolpop\.yaml$/);
    expect([settings.maxParallel, settings.failFast]).toEqual([4, false]);
    expect(settings.overrides.orchestrator).toBeUndefined();
  });

  it('config takes several paths and globs, one workflow per file, in a stable order', () => {
    setInputs({ config: 'test/fixtures/config/valid-*.yaml\nexamples/quickstart/lolpop.yaml, examples/quickstart/lolpop.yaml' });
    expect(readInputs().configFiles.map((f) => path.relative(process.cwd(), f))).toEqual([
      'test/fixtures/config/valid-prefect.yaml',
      'examples/quickstart/lolpop.yaml',
    ]);
    setInputs({ config: 'teams/*/lolpop.yaml' });
    expect(() => readInputs()).toThrow(/^input config: 'teams\/\*\/lolpop\.yaml' matches no file/);
    setInputs({ 'max-parallel': '0' });
    expect(() => readInputs()).toThrow("input max-parallel: '0' is not a whole number from 1 to 64");
  });

  it('production-branch names the branch that deploys production names with preview', () => {
    setInputs({ preview: 'true', 'production-branch': 'release' });
    expect(readInputs()).toMatchObject({ preview: true, productionBranch: 'release' });
  });

  it("the orchestrator input is lolpop's --deployer/--packager", () => {
    setInputs({ orchestrator: 'PrefectOrchestrator' });
    expect(readInputs().overrides.orchestrator).toEqual({ name: 'PrefectOrchestrator', label: 'input orchestrator' });
  });

  it('wait and wait-timeout become run settings; run-kwargs are the run parameters, as in lolpop', () => {
    setInputs({ wait: 'true', 'wait-timeout': '5m', 'run-kwargs': '{"n":3,"wait":false}', 'deployment-kwargs': '{"work_pool":"p"}' });
    const { overrides } = readInputs();
    expect(overrides.kwargs).toEqual({ run: { n: 3, wait: false }, deploy: { work_pool: 'p' } });
    expect(overrides.runSettings).toEqual({ wait: true, wait_timeout: '5m' });
  });

  it.each([
    // The example is a run parameter (each key of run-kwargs is one), not a deploy key.
    [{ 'run-kwargs': '{nope' }, /^input run-kwargs: not valid JSON \(.*\); expected an object such as \{"min_accuracy": 0\.9\} \(each key a run parameter\)$/],
    [{ 'stop-kwargs': '[1]' }, 'input stop-kwargs: expected a JSON object such as {"mode": "delete"}, got an array'],
    [{ wait: 'maybe' }, "input wait: 'maybe' is not a boolean; expected true or false"],
    [{ comment: 'sometimes' }, "input comment: 'sometimes' is not one of auto, always, never"],
    [{ steps: 'deploy,launch' }, "input steps: unknown step 'launch'; expected some of plan, package, deploy, run, stop (build = deploy)"],
    [{ 'registry-username': 'me' }, 'inputs registry-username and registry-password: give both or neither'],
  ])('%j → %s', (given, message) => {
    setInputs(given);
    expect(() => readInputs()).toThrow(message);
  });
});
