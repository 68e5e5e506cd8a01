import { describe, expect, it } from 'vitest';
import { parseCommandLine, USAGE_EXIT_CODE, type CliInvocation } from '../../src/cli/program.js';
import { describeOrchestrators } from '../../src/orchestrators/registry.js';

function parse(argv: string[]): { outcome: ReturnType<typeof parseCommandLine>; out: string; err: string } {
  let out = '';
  let err = '';
  const outcome = parseCommandLine(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { outcome, out, err };
}

function invocation(argv: string[]): CliInvocation {
  const { outcome, err } = parse(argv);
  if (outcome.kind !== 'invoke') throw new Error(`expected an invocation, got exit ${outcome.code}: ${err}`);
  return outcome.invocation;
}

describe('lolpop deployment flags → invocation', () => {
  // [#, argv, expected (partial)]
  const rows: Array<[number, string[], Partial<CliInvocation>]> = [
    [
      1,
      ['package', 'QuickstartRunner', '-c', 'q.yaml', '-m', 'prefect_files.quickstart_runner', '-e', 'build_all', '-f', 'my_flow'],
      {
        command: 'package',
        configFile: 'q.yaml',
        steps: ['package'],
        overrides: {
          kwargs: {
            package: {
              lolpop_class: 'QuickstartRunner',
              lolpop_module: 'prefect_files.quickstart_runner',
              lolpop_entrypoint: 'build_all',
              flow_name: 'my_flow',
            },
          },
        },
      },
    ],
    [
      2,
      ['package', 'Runner', '--packaging-kwargs', '{"copy_files":["a.csv"],"lolpop_class":"Other"}', '--skip-validation', '-t', 'none'],
      {
        configFile: 'lolpop.yaml',
        overrides: { kwargs: { package: { copy_files: ['a.csv'], lolpop_class: 'Runner', skip_validation: true, package_type: 'none' } } },
      },
    ],
    [
      3,
      ['package', 'Runner', '--packager', 'PrefectOrchestrator', '-p', 'package'],
      { overrides: { orchestrator: { name: 'PrefectOrchestrator', label: '--packager' }, kwargs: { package: { lolpop_class: 'Runner' } } } },
    ],
    [
      4,
      ['build', '-c', 'q.yaml', '--deployer', 'LocalOrchestrator', '-n', 'qs-pr-7', '-t', 'kubernetes', '--deployment-kwargs', '{"work_pool":"k8s"}'],
      {
        command: 'build',
        steps: ['deploy'],
        overrides: {
          orchestrator: { name: 'LocalOrchestrator', label: '--deployer' },
          deploymentName: 'qs-pr-7',
          deploymentType: 'kubernetes',
          kwargs: { deploy: { work_pool: 'k8s' } },
        },
      },
    ],
    [5, ['build', '-d', 'build'], { steps: ['deploy'], overrides: {} }],
    [
      6,
      // lolpop: every key of --run-kwargs is a flow parameter.
      ['run', 'prefect-entrypoint/quickstart', '-c', 'q.yaml', '--run-kwargs', '{"n":1}'],
      { command: 'run', steps: ['run'], overrides: { deploymentName: 'quickstart', kwargs: { run: { n: 1 } } } },
    ],
    [7, ['run', 'qs', '--wait', '--wait-timeout', '5m'], { overrides: { deploymentName: 'qs', runSettings: { wait: true, wait_timeout: '5m' } } }],
    [8, ['stop', 'qs', '--stop-kwargs', '{"mode":"delete"}'], { command: 'stop', steps: ['stop'], overrides: { deploymentName: 'qs', kwargs: { stop: { mode: 'delete' } } } }],
    [9, ['stop', '-n', 'qs', '-t', 'docker'], { overrides: { deploymentName: 'qs', deploymentType: 'docker' } }],
    [10, ['up', '-c', 'examples/quickstart/lolpop.yaml'], { command: 'up', configFile: 'examples/quickstart/lolpop.yaml', steps: ['package', 'deploy', 'run'], overrides: {}, json: false }],
    [11, ['up', '--steps', 'build,run', '--wait', '--json'], { steps: ['deploy', 'run'], overrides: { runSettings: { wait: true } }, json: true }],
    [12, ['up', '--steps', 'stop', '--stop-kwargs', '{"cancel_runs":true}'], { steps: ['stop'], overrides: { kwargs: { stop: { cancel_runs: true } } } }],
    // lolpop's docs write the kwargs flags with underscores.
    [13, ['build', '--deployment_kwargs={"tags":["a"]}'], { overrides: { kwargs: { deploy: { tags: ['a'] } } } }],
    [14, ['up', '-v', '--orchestrator', './mine.mjs'], { verbose: true, overrides: { orchestrator: { name: './mine.mjs', label: '--orchestrator' } } }],
    [15, ['plan', '--run-kwargs', '{"n":2}', '--wait-timeout', '1h30m'], { command: 'plan', steps: ['plan', 'package', 'deploy', 'run'], overrides: { kwargs: { run: { n: 2 } }, runSettings: { wait_timeout: '1h30m' } } }],
    [16, ['up', '--steps', 'plan'], { command: 'up', steps: ['plan'] }],
    [17, ['plan', '--steps', 'build,run'], { command: 'plan', steps: ['plan', 'deploy', 'run'] }],
  ];
  it.each(rows)('%i: %j', (_n, argv, expected) => {
    expect(invocation(argv)).toMatchObject(expected);
  });

  it('passes no empty overrides', () => {
    expect(invocation(['up']).overrides).toEqual({});
  });
});

describe('bad command lines', () => {
  // [#, argv, what stderr says]
  const rows: Array<[number, string[], RegExp]> = [
    [1, ['up', '--bogus'], /unknown option '--bogus'[\s\S]*Usage: lolpop-deploy up \[options\]/],
    [2, ['package'], /missing required argument 'lolpop_class'[\s\S]*Usage: lolpop-deploy package/],
    [3, ['run'], /missing required argument 'deployment_name'/],
    // A run's example is a run parameter (every key of --run-kwargs is one), not a deploy setting.
    [4, ['up', '--run-kwargs', '{parameters:1}'], /^error: --run-kwargs: not valid JSON \(.*\); expected an object such as \{"min_accuracy": 0\.9\} \(each key a run parameter\)$/m],
    [5, ['build', '--deployment-kwargs', '[1]'], /^error: --deployment-kwargs: expected a JSON object such as \{"work_pool": "my-pool"\}, got an array$/m],
    [6, ['build', '-d', 'my_deploy'], /Only 'deploy' or 'build' is available/],
    [7, ['up', '--steps', 'deploy,launch'], /--steps: unknown step 'launch'/],
    [8, ['deploy', '-d', 'run'], /Only 'deploy' or 'build' is available/],
    [9, ['stop', 'a', '-n', 'b'], /the deployment is named twice/],
    [10, ['up', '--steps', 'plan,stop'], /--steps: plan shows what package, deploy and run would do; it cannot plan stop/],
    [11, ['up', '--orchestrator', 'PrefectOrchestrator', '--deployer', 'AirflowOrchestrator'], /--orchestrator 'PrefectOrchestrator' and --deployer 'AirflowOrchestrator' name different orchestrators; give one/],
  ];
  it.each(rows)('%i: %j', (_n, argv, message) => {
    const { outcome, err } = parse(argv);
    expect(outcome).toEqual({ kind: 'exit', code: USAGE_EXIT_CODE });
    expect(err).toMatch(message);
  });

  it('--help lists every command, schema and plan included', () => {
    const { outcome, out } = parse(['--help']);
    expect(outcome).toEqual({ kind: 'exit', code: 0 });
    for (const command of ['package', 'build\\|deploy', 'run', 'stop', 'up', 'plan', 'schema']) expect(out).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it("deploy is build under the name the action and --steps use; --help says so", () => {
    expect(invocation(['deploy', '-c', 'q.yaml', '--deployer', 'LocalOrchestrator'])).toMatchObject(invocation(['build', '-c', 'q.yaml', '--deployer', 'LocalOrchestrator']));
    const { out } = parse(['deploy', '--help']);
    expect(out).toContain('Usage: lolpop-deploy build|deploy [options]');
    expect(out.replace(/\s+/g, ' ')).toContain('lolpop deployment build; `deploy` is the same command');
  });

  it("up and plan take lolpop's --deployer as --orchestrator", () => {
    for (const command of ['up', 'plan']) {
      expect(invocation([command, '--deployer', 'AirflowOrchestrator']).overrides.orchestrator).toEqual({ name: 'AirflowOrchestrator', label: '--deployer' });
      expect(invocation([command, '--deployer', 'X', '--orchestrator', 'X']).overrides.orchestrator).toEqual({ name: 'X', label: '--orchestrator' });
    }
  });

  it('plan --help offers no wait flags (a plan waits for nothing); up --help does', () => {
    expect(parse(['plan', '--help']).out).not.toMatch(/--wait/);
    expect(parse(['up', '--help']).out).toMatch(/-w, --wait\b[\s\S]*--wait-timeout <duration>/);
  });

  it('--help names every built-in orchestrator with its registry description, and each --orchestrator flag every name', () => {
    const { out } = parse(['--help']);
    for (const o of describeOrchestrators()) expect(out).toMatch(new RegExp(`^  ${o.name} +${o.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    const up = parse(['up', '--help']).out.replace(/\s+/g, ' ');
    for (const o of describeOrchestrators()) expect(up).toContain(o.name);
  });

  it('orchestrators --json prints the registry (what scripts/write-docs.mjs reads)', () => {
    const { outcome, out } = parse(['orchestrators', '--json']);
    expect(outcome).toEqual({ kind: 'exit', code: 0 });
    expect(JSON.parse(out)).toEqual(describeOrchestrators());
    expect(parse(['orchestrators']).out).toMatch(/^LocalOrchestrator \(default\)$/m);
  });

  it('schema prints the JSON Schema and exits 0', () => {
    const { outcome, out } = parse(['schema']);
    expect(outcome).toEqual({ kind: 'exit', code: 0 });
    expect(JSON.parse(out)).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' });
  });

  it('--help prints the command help on stdout and exits 0', () => {
    const { outcome, out } = parse(['package', '--help']);
    expect(outcome).toEqual({ kind: 'exit', code: 0 });
    expect(out).toContain('Usage: lolpop-deploy package [options] <lolpop_class>');
    for (const flag of ['--config-file', '--build-method', '--module', '--flow-name', '--packager', '--packaging-method', '--package-type', '--packaging-kwargs', '--skip-validation']) {
      expect(out).toContain(flag);
    }
  });

  it('without a command, shows the help and fails', () => {
    const { outcome, err } = parse([]);
    expect(outcome).toEqual({ kind: 'exit', code: USAGE_EXIT_CODE });
    expect(err).toContain('Usage: lolpop-deploy');
  });

  it('lists the commands', () => {
    const { outcome, out } = parse(['--help']);
    expect(outcome).toEqual({ kind: 'exit', code: 0 });
    expect(out).toMatch(/package[\s\S]*build[\s\S]*run[\s\S]*stop[\s\S]*up/);
  });
});
