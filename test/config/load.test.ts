import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigOverrides } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';

const fixture = (name: string) => path.join('test/fixtures/config', name);
const load = (name: string, overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = {}) =>
  loadConfig(fixture(name), overrides, orchestratorLookup, env);

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: the messages a user sees', () => {
  // Each row: fixture → the exact message (file:line:col, key, what was expected).
  it.each([
    ['missing file', 'nope.yaml', /^Config file test\/fixtures\/config\/nope\.yaml not found \(looked for \/.*nope\.yaml\)\. Set the config input or -c\.$/],
    ['YAML syntax error', 'syntax-error.yaml', "test/fixtures/config/syntax-error.yaml:6:5: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]"],
    [
      'unknown orchestrator',
      'unknown-orchestrator.yaml',
      "test/fixtures/config/unknown-orchestrator.yaml:2:3: decorator.orchestrator: unknown orchestrator 'AirflowOrchestrater'; known: LocalOrchestrator, PrefectOrchestrator (or a module path such as ./my_orchestrator.js)",
    ],
    ['wrong type', 'wrong-type.yaml', 'test/fixtures/config/wrong-type.yaml:7:7: orchestrator.deployment.package.push_image: expected boolean, received string'],
    [
      'missing required key',
      'missing-name.yaml',
      "test/fixtures/config/missing-name.yaml:4:3: orchestrator.deployment.name: required, the deployment's name (or pass the deployment-name input / -n)",
    ],
    ['unknown key', 'unknown-key.yaml', 'test/fixtures/config/unknown-key.yaml:7:7: orchestrator.deployment.deploy.work_pol: unknown key; check its spelling'],
    ['bad enum', 'bad-enum.yaml', 'test/fixtures/config/bad-enum.yaml:6:5: orchestrator.deployment.type: Invalid option: expected one of "docker"|"kubernetes"|"local"'],
    ['both spellings', 'both-spellings.yaml', 'test/fixtures/config/both-spellings.yaml:3:1: decorators: use either decorator or decorators, not both'],
    ['orchestrator config', 'bad-prefect-config.yaml', 'test/fixtures/config/bad-prefect-config.yaml:5:5: orchestrator.config.cache_tasks: expected boolean, received string'],
  ])('%s', (_name, file, expected) => {
    const message = errorOf(() => load(file));
    if (expected instanceof RegExp) expect(message).toMatch(expected);
    else expect(message).toBe(expected);
  });

  it('a wrong override names the input, not a line of the file', () => {
    const message = errorOf(() => load('valid-prefect.yaml', { kwargs: { deploy: { work_pool: 7 } } }));
    expect(message).toBe('input deployment-kwargs: orchestrator.deployment.deploy.work_pool: expected string, received number');
  });

  it('a missing ${VAR} names the key and the variable', () => {
    const message = errorOf(() => load('env-reference.yaml', {}, { LPD_TEST_URL: 'http://x/api' }));
    expect(message).toBe(
      'test/fixtures/config/env-reference.yaml:7:7: orchestrator.config.prefect_settings.PREFECT_API_KEY: environment variable LPD_TEST_KEY is not set (referenced as ${LPD_TEST_KEY})',
    );
  });
});

describe('loadConfig: valid files', () => {
  it("reads seed 003's quickstart with lolpop's defaults filled in", () => {
    const config = load('valid-prefect.yaml');
    expect(config.orchestrator).toBe('PrefectOrchestrator');
    expect(config.deployment.name).toBe('quickstart');
    expect(config.deployment.package).toMatchObject({
      lolpop_class: 'QuickstartRunner',
      lolpop_entrypoint: 'build_all',
      flow_name: 'prefect_entrypoint',
      prefect_files: 'prefect_files/',
      dockerfile_path: 'Dockerfile',
      push_image: true,
      create_deployment: false,
      skip_validation: false,
    });
    expect(config.deployment.deploy).toMatchObject({ work_pool: 'docker-pool', secret_name: 'prefect-secrets', namespace: 'lolpop', num_replicas: 1 });
    expect(config.deployment.run).toMatchObject({ parameters: {}, wait: false, wait_timeout: '30m' });
    expect(config.deployment.stop).toMatchObject({ mode: 'pause', cancel_runs: false });
    expect(config.orchestratorConfig).toMatchObject({ prefect_profile: 'default', cache_tasks: true, flow_kwargs: { log_prints: true } });
  });

  it('accepts the singular spellings lolpop also uses', () => {
    expect(load('singular-spelling.yaml').orchestrator).toBe('PrefectOrchestrator');
  });

  it('overrides merge key by key, like the CLI flags', () => {
    const config = load('valid-prefect.yaml', {
      deploymentName: 'other',
      kwargs: { deploy: { work_queue_name: 'q' }, run: { parameters: { n: 3 }, wait: true } },
    });
    expect(config.deployment.name).toBe('other');
    expect(config.deployment.deploy.work_pool).toBe('docker-pool');
    expect(config.deployment.deploy.work_queue_name).toBe('q');
    expect(config.deployment.run).toMatchObject({ parameters: { n: 3 }, wait: true });
  });

  it('preview deployments get their suffix', () => {
    expect(load('valid-prefect.yaml', { deploymentNameSuffix: '-pr-7' }).deployment.name).toBe('quickstart-pr-7');
  });

  it('expands ${VAR}, keeps $${ literal, and reports non-public values as secrets', () => {
    const config = load('env-reference.yaml', {}, { LPD_TEST_URL: 'http://x/api', LPD_TEST_KEY: 'pnu_secret', GITHUB_RUN_NUMBER: '42' });
    const settings = (config.orchestratorConfig as { prefect_settings: Record<string, string> }).prefect_settings;
    expect(settings).toEqual({ PREFECT_API_URL: 'http://x/api', PREFECT_API_KEY: 'pnu_secret' });
    expect(config.deployment.name).toBe('quickstart-42');
    expect(config.deployment.run.parameters).toEqual({ literal: '${NOT_EXPANDED}' });
    expect(config.secrets.sort()).toEqual(['http://x/api', 'pnu_secret']);
  });
});

describe('loadConfig: overrides from the CLI', () => {
  it('a wrong flag value names the flag', () => {
    const message = errorOf(() => load('valid-prefect.yaml', { source: 'flag', deploymentType: 'nomad' }));
    expect(message).toBe('flag --deployment-type: orchestrator.deployment.type: Invalid option: expected one of "docker"|"kubernetes"|"local"');
  });
});

describe('loadConfig: flow_kwargs', () => {
  it("orchestrator.config.flow_kwargs reach the package (and so the flow's name) unless package names its own", () => {
    const config = load('valid-prefect.yaml');
    expect(config.deployment.package.flow_kwargs).toEqual({ log_prints: true });
    const own = load('valid-prefect.yaml', { kwargs: { package: { flow_kwargs: { name: 'mine' } } } });
    expect(own.deployment.package.flow_kwargs).toEqual({ name: 'mine' });
  });
});
