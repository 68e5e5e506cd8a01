import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MemoryLogger } from '../../src/logger.js';
import { knownOrchestrators } from '../../src/orchestrators/registry.js';
import { copyExample, REPO } from '../local/example.js';

/** Runs the CLI in-process with a clean environment (no GitHub run ids) and captures its output. */
async function cli(argv: string[], cwd = REPO, env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const logger = new MemoryLogger();
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { PATH: process.env.PATH, ...env },
    cwd,
    logger,
  });
  return { code, stdout, stderr, log: logger.lines };
}

describe('lolpop-deploy up on examples/quickstart (real python3)', () => {
  it('packages, deploys and runs; prints the state and the report', async () => {
    const dir = copyExample('quickstart');
    const { code, stdout, stderr, log } = await cli(['up', '-c', 'lolpop.yaml'], dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^package +success/m);
    expect(stdout).toMatch(/^run +success .* COMPLETED$/m);
    const report = /^Report: (file:\S+)$/m.exec(stdout)?.[1];
    expect(report).toBeDefined();
    expect(existsSync(fileURLToPath(report!))).toBe(true);
    expect(stdout).toMatch(/^Run \S+: COMPLETED$/m);
    expect(log).toContain('group: run');
    expect(existsSync(path.join(dir, 'prefect_files/run.py'))).toBe(true);
  });

  it('plan shows what up would do and changes nothing', async () => {
    const dir = copyExample('quickstart');
    const before = readdirSync(dir).sort();
    const { code, stdout } = await cli(['plan', '-c', 'lolpop.yaml'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain('Plan (nothing was changed):\n  1. write prefect_files/run.py (new)\n  2. write Dockerfile (new)\n');
    expect(stdout).toMatch(/^ {2}3\. record deployment quickstart \(prefect_files\/run\.py:prefect_entrypoint\) in \.lolpop-deploy$/m);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('-c with a glob runs one workflow per file; a failing one fails the exit code, not the others', async () => {
    const dir = copyExample('quickstart');
    const base = readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8');
    mkdirSync(path.join(dir, 'teams'));
    writeFileSync(path.join(dir, 'teams/a.yaml'), base.replace('name: quickstart ', 'name: team-a '));
    writeFileSync(path.join(dir, 'teams/b.yaml'), base.replace('name: quickstart ', 'name: team-b ').replace('lolpop_class: QuickstartRunner', 'lolpop_class: NoSuchRunner'));
    writeFileSync(path.join(dir, 'teams/c.yaml'), base.replace('name: quickstart ', 'name: team-c '));
    const { code, stdout, stderr, log } = await cli(['up', '-c', 'teams/*.yaml', '--max-parallel', '2'], dir);
    expect(code).toBe(1);
    expect(stdout.split('\n').filter((l) => l.startsWith('== '))).toEqual(['== team-a: succeeded', '== team-b: failed', '== team-c: succeeded']);
    expect(stderr).toMatch(/^error: team-b: /m);
    expect(stderr).toContain('error: 1 of 3 workflows failed (team-b)\n');
    expect(log.some((l) => l.startsWith('info: [team-c] '))).toBe(true);
  });

  it('--json prints the result as JSON on stdout and nothing else', async () => {
    const dir = copyExample('quickstart');
    const { code, stdout } = await cli(['up', '-c', 'lolpop.yaml', '--json', '--wait'], dir);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      orchestrator: 'LocalOrchestrator',
      deploymentName: 'quickstart',
      steps: [{ step: 'package' }, { step: 'deploy' }, { step: 'run' }, { step: 'wait', status: 'success' }],
      run: { state: 'COMPLETED', created: true },
    });
    expect(result.error).toBeUndefined();
  });

  it('a failed run exits 1 with the run’s last line, and --json carries the error message', async () => {
    const dir = copyExample('quickstart');
    expect((await cli(['up', '--steps', 'package,build'], dir)).code).toBe(0);
    const failed = await cli(['run', 'quickstart', '--run-kwargs', '{"min_accuracy":2}', '--wait', '--json'], dir);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error: Run \S+ of quickstart ended FAILED \(exit code 1\): RuntimeError: accuracy 1\.000 is below min_accuracy 2\.000$/m);
    const result = JSON.parse(failed.stdout);
    expect(result.run.state).toBe('FAILED');
    expect(result.error).toMatch(/RuntimeError: accuracy/);
    // Without --wait, the local run has still ended: its state decides the exit code.
    const noWait = await cli(['run', 'quickstart', '--run-kwargs', '{"min_accuracy":2}'], dir);
    expect(noWait.code).toBe(1);
    expect(noWait.stderr).toMatch(/^error: Run \S+ of quickstart ended FAILED; see file:/m);
  });

  it('package/build/run/stop one by one, as lolpop deployment does', async () => {
    const dir = copyExample('quickstart');
    expect((await cli(['package', 'QuickstartRunner', '-m', 'quickstart_runner', '-e', 'build_all'], dir)).code).toBe(0);
    const built = await cli(['build', '-n', 'qs-dev'], dir);
    expect(built.code).toBe(0);
    expect(existsSync(path.join(dir, '.lolpop-deploy/deployments/qs-dev.json'))).toBe(true);
    expect((await cli(['run', 'qs-dev'], dir)).stdout).toMatch(/: COMPLETED$/m);
    const stopped = await cli(['stop', 'qs-dev'], dir);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/^Stop: removed deployment 'qs-dev'/m);
    expect(existsSync(path.join(dir, '.lolpop-deploy/deployments/qs-dev.json'))).toBe(false);
    const again = await cli(['stop', 'qs-dev'], dir);
    expect(again.code).toBe(0);
    expect(again.log.some((l) => /^warning: deployment 'qs-dev' is not recorded/.test(l))).toBe(true);
  });
});

describe('config errors', () => {
  const fixtures = path.join(REPO, 'test/fixtures/cli');
  // [#, argv, the message a user sees]
  const rows: Array<[number, string[], string | RegExp]> = [
    [1, ['up', '-c', 'nope.yaml'], /^error: Config file .*nope\.yaml not found \(looked for .*\)\. Set the config input or -c\.\n$/],
    [
      2,
      ['up', '-c', path.join(fixtures, 'module-decorator.yaml')],
      "module-decorator.yaml:2:3: decorator.orchestrator: './mine.mjs' is a module path, but lolpop loads this key as a Python class",
    ],
    [3, ['up', '-c', path.join(fixtures, 'typo.yaml')], /typo\.yaml:7:7: orchestrator\.deployment\.package\.lolpop_clas: unknown key; did you mean lolpop_class\?/],
    [4, ['build', '-c', path.join(REPO, 'examples/quickstart/lolpop.yaml'), '-t', 'serverless'], /^error: flag --deployment-type: orchestrator\.deployment\.type: Invalid option: expected one of "docker"\|"kubernetes"\|"local"$/m],
    [5, ['build', '-c', path.join(REPO, 'examples/quickstart/lolpop.yaml'), '--deployer', 'Airflow'], `error: --deployer: unknown orchestrator 'Airflow'; known: ${knownOrchestrators().join(', ')} (or a module path`],
  ];
  it.each(rows)('%i: %j', async (_n, argv, message) => {
    const { code, stdout, stderr } = await cli(argv);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    if (typeof message === 'string') expect(stderr).toContain(message);
    else expect(stderr).toMatch(message);
  });

  it('a decorator.orchestrator lolpop-deploy does not know: one warning line with the closest name, then the local default', async () => {
    const dir = copyExample('quickstart');
    writeFileSync(path.join(dir, 'typo.yaml'), readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8').replace(/^orchestrator:/m, 'decorator:\n  orchestrator: PrefectOrchestrater\norchestrator:'));
    const { code, log } = await cli(['build', '-c', 'typo.yaml'], dir);
    expect(code).toBe(0);
    const warnings = log.filter((l) => l.includes('PrefectOrchestrater'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: \S*typo\.yaml:10:3: decorator\.orchestrator: unknown orchestrator 'PrefectOrchestrater' \(did you mean PrefectOrchestrator\?\); /);
    expect(warnings[0]).toMatch(/; deploying with LocalOrchestrator \(choose another with --deployer\)$/);
  });

  it('--json puts the config error on stdout as JSON too', async () => {
    const { code, stdout } = await cli(['up', '-c', path.join(fixtures, 'typo.yaml'), '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).error).toMatch(/lolpop_clas: unknown key/);
  });

  it("lolpop's -l with a Python file is a usage error that says why", async () => {
    const { code, stderr } = await cli(['build', '-l', 'my_orchestrator.py']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: -l\/--local-file 'my_orchestrator\.py': lolpop-deploy runs no Python orchestrator class/m);
  });

  it('a bad flag exits 2 with a usage line and runs nothing', async () => {
    const { code, stderr } = await cli(['up', '--steps', 'package', '--wiat']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown option '--wiat'[\s\S]*Usage: lolpop-deploy up \[options\]/);
  });
});

describe('PrefectOrchestrator without a server configured', () => {
  it('package alone writes the files (as lolpop); up fails before building anything', async () => {
    const dir = copyExample('quickstart');
    const home = { HOME: dir }; // no Prefect profiles file
    const pkg = await cli(['package', 'QuickstartRunner', '-m', 'quickstart_runner', '-c', 'lolpop.yaml', '--packager', 'PrefectOrchestrator', '-t', 'none'], dir, home);
    expect(pkg.code, pkg.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'prefect_files/run.py'))).toBe(true);
    const up = await cli(['up', '-c', 'lolpop.yaml', '--orchestrator', 'PrefectOrchestrator', '--steps', 'package,deploy'], dir, home);
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(/^error: PREFECT_API_URL is not set/m);
    expect(up.stdout).toBe('');
    expect(up.log.some((l) => l.includes('group: package'))).toBe(false);
  });
});

describe('examples/custom-orchestrator', () => {
  it('loads the .mjs plugin and runs package → deploy → run → wait → stop end to end', async () => {
    const dir = copyExample('custom-orchestrator');
    const up = await cli(['up', '-c', 'lolpop.yaml', '--orchestrator', './shell_orchestrator.mjs', '--wait'], dir);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^Run \S+: COMPLETED$/m);
    expect(up.log).toContain('info: job: parameters {"greeting":"hello"}');
    const log = /^Report: (file:\S+)$/m.exec(up.stdout)![1]!;
    expect(readFileSync(fileURLToPath(log), 'utf8')).toContain('job: 3 lines in data.csv');
    expect(existsSync(path.join(dir, '.shell-orchestrator/shell-demo.json'))).toBe(true);
    const stop = await cli(['stop', 'shell-demo', '--deployer', './shell_orchestrator.mjs'], dir);
    expect(stop.code).toBe(0);
    expect(existsSync(path.join(dir, '.shell-orchestrator/shell-demo.json'))).toBe(false);
  });

  it("takes the module's own run kwarg (shell), checked by the module at its line", async () => {
    const dir = copyExample('custom-orchestrator');
    const yaml = readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8');
    writeFileSync(path.join(dir, 'lolpop.yaml'), yaml.replace('# shell: bash ', 'shell: bash   '));
    const up = await cli(['up', '-c', 'lolpop.yaml', '--orchestrator', './shell_orchestrator.mjs', '--wait'], dir);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^Run \S+: COMPLETED$/m);
    writeFileSync(path.join(dir, 'lolpop.yaml'), yaml.replace('# shell: bash ', 'shell: [bash]'));
    const bad = await cli(['up', '-c', 'lolpop.yaml', '--orchestrator', './shell_orchestrator.mjs'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: \S*lolpop\.yaml:16:7: orchestrator\.deployment\.run\.shell: expected the name or path of a shell, e\.g\. bash \(checked by \.\/shell_orchestrator\.mjs\)$/m);
  });

  it("reports the plugin's own config check with the key", async () => {
    const dir = copyExample('custom-orchestrator');
    const yaml = readFileSync(path.join(dir, 'lolpop.yaml'), 'utf8').replace('command: sh ./job.sh', 'commmand: sh ./job.sh');
    writeFileSync(path.join(dir, 'lolpop.yaml'), yaml);
    const { code, stderr } = await cli(['up', '-c', 'lolpop.yaml', '-l', 'shell_orchestrator.mjs'], dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: \S*lolpop\.yaml:\d+:\d+: orchestrator\.config\.command: required: the shell command .* \(checked as \.\/shell_orchestrator\.mjs's config, chosen by -l\/--local-file\)$/m);
  });
});
