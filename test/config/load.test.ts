import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigSync, loadedAs, type ConfigOverrides, type LoadOptions } from '../../src/config/load.js';
import { DEFAULT_BASE_IMAGE } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { PREFECT_KWARGS } from '../../src/orchestrators/prefect/kwargs.js';
import { knownOrchestrators, orchestratorLookup } from '../../src/orchestrators/registry.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

const fixture = (name: string) => path.join('test/fixtures/config', name);
const load = (name: string, overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = {}, options?: LoadOptions) =>
  loadConfigSync(fixture(name), overrides, orchestratorLookup, env, undefined, options);
/** A config that PrefectOrchestrator deploys, as its kwargs type it. */
const loadPrefect = (name: string, overrides: ConfigOverrides = {}) => loadedAs(load(name, overrides), PREFECT_KWARGS);


describe('loadConfig: the messages a user sees', () => {
  // Each row: fixture → the exact message (file:line:col, key, what was expected).
  it.each([
    ['missing file', 'nope.yaml', /^Config file test\/fixtures\/config\/nope\.yaml not found \(looked for \/.*nope\.yaml\)\. Set the config input or -c\.$/],
    ['YAML syntax error', 'syntax-error.yaml', "test/fixtures/config/syntax-error.yaml:5:11: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]"],
    ['wrong type', 'wrong-type.yaml', 'test/fixtures/config/wrong-type.yaml:7:7: orchestrator.deployment.package.push_image: expected boolean, received string'],
    ['unknown key', 'unknown-key.yaml', 'test/fixtures/config/unknown-key.yaml:7:7: orchestrator.deployment.deploy.work_pol: unknown key; did you mean work_pool?'],
    ['bad enum', 'bad-enum.yaml', 'test/fixtures/config/bad-enum.yaml:6:5: orchestrator.deployment.type: Invalid option: expected one of "docker"|"kubernetes"|"local"'],
    ['both spellings', 'both-spellings.yaml', 'test/fixtures/config/both-spellings.yaml:3:1: decorators: use either decorator or decorators, not both'],
    ['an empty request-and-limit', 'empty-resource.yaml', 'test/fixtures/config/empty-resource.yaml:9:9: orchestrator.deployment.deploy.resources.memory: a request, a limit or both: {request: …, limit: …}'],
    ['orchestrator config', 'bad-prefect-config.yaml', 'test/fixtures/config/bad-prefect-config.yaml:5:5: orchestrator.config.cache_tasks: expected boolean, received string'],
  ])('%s', (_name, file, expected) => {
    const message = errorOf(() => load(file));
    if (expected instanceof RegExp) expect(message).toMatch(expected);
    else expect(message).toBe(expected);
  });

  it.each([
    ['an alias bomb', 'alias-bomb.yaml', 'test/fixtures/config/alias-bomb.yaml:2:8: YAML aliases: Excessive alias count indicates a resource exhaustion attack'],
    ['an unresolved alias', 'unresolved-alias.yaml', 'test/fixtures/config/unresolved-alias.yaml:3:11: YAML aliases: Unresolved alias (the anchor must be set before the alias): nope'],
  ])('%s fails at its position', (_name, file, expected) => {
    expect(errorOf(() => load(file))).toBe(expected);
  });

  // yaml reports these at column 1 of the line where the text ran out or the indentation starts.
  it.each([
    ['an unclosed quote: at the quote', 'orchestrator:\n  deployment:\n    name: "quickstart\n    type: docker\n', '3:11: YAML syntax error: Missing closing "quote'],
    ['an unclosed flow mapping: at its brace', 'orchestrator:\n  config: {api_url: x\n  deployment: {}\n', '2:11: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }'],
    ['a mapping item after a list: at the item', 'orchestrator:\n  deployment:\n    - name\n    type: docker\n', '4:5: YAML syntax error: '],
  ])('a syntax error is reported at its real line and column: %s', (_name, text, expected) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lolpop-syntax-'));
    writeFileSync(path.join(dir, 'lolpop.yaml'), text);
    expect(errorOf(() => loadConfigSync(path.join(dir, 'lolpop.yaml'), {}, orchestratorLookup, {}))).toContain(`lolpop.yaml:${expected}`);
  });

  it('a key given twice fails at the second one', () => {
    expect(errorOf(() => load('duplicate-key.yaml'))).toBe(
      "test/fixtures/config/duplicate-key.yaml:4:5: YAML syntax error: the key 'name' is given twice in the same mapping",
    );
  });

  it('a directory given as the config file says so', () => {
    expect(errorOf(() => load('.'))).toBe('Config file test/fixtures/config is a directory; give the file in it, e.g. test/fixtures/config/lolpop.yaml');
  });

  it('a value from ${VAR} quoted by an error is hidden, before anything has registered it as a secret', () => {
    const message = errorOf(() => load('env-orchestrator.yaml', {}, { ORCH_SECRET: 'sk-live-0123456789' }));
    expect(message).not.toContain('sk-live-0123456789');
    expect(message).toContain('***');
  });

  it('carries each file:line:col as a location, for annotations on the diff', () => {
    let error: ConfigError | undefined;
    try {
      load('unknown-key.yaml');
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.locations).toEqual([
      {
        file: path.resolve(fixture('unknown-key.yaml')),
        line: 7,
        col: 7,
        message: 'test/fixtures/config/unknown-key.yaml:7:7: orchestrator.deployment.deploy.work_pol: unknown key; did you mean work_pool?',
      },
    ]);
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

describe('loadConfig: which orchestrator deploys, in lolpop order', () => {
  it('a decorator.orchestrator we do not know fails, naming the known ones and the closest (the action)', () => {
    expect(errorOf(() => load('unknown-orchestrator.yaml'))).toBe(
      "test/fixtures/config/unknown-orchestrator.yaml:2:3: decorator.orchestrator: unknown orchestrator 'AirflowOrchestrater' (did you mean AirflowOrchestrator?); " +
        `lolpop-deploy deploys with ${knownOrchestrators().join(', ')}. Fix the name, or choose one with the orchestrator input`,
    );
  });

  it('with unknownOrchestrator: warn (the CLI), it warns in one line and deploys with LocalOrchestrator', () => {
    const config = load('unknown-orchestrator.yaml', {}, {}, { unknownOrchestrator: 'warn' });
    expect(config.orchestrator).toBe('LocalOrchestrator');
    expect(config.warnings).toEqual([
      "test/fixtures/config/unknown-orchestrator.yaml:2:3: decorator.orchestrator: unknown orchestrator 'AirflowOrchestrater' (did you mean AirflowOrchestrator?); " +
        `lolpop-deploy deploys with ${knownOrchestrators().join(', ')}; deploying with LocalOrchestrator (choose another with --deployer)`,
    ]);
  });

  it('the flag or input wins over decorator.orchestrator, and its config is checked as that orchestrator', () => {
    expect(load('valid-prefect.yaml').orchestrator).toBe('PrefectOrchestrator');
    const chosen = load('unknown-orchestrator.yaml', { orchestrator: { name: 'PrefectOrchestrator', label: '--deployer' } });
    expect(chosen.orchestrator).toBe('PrefectOrchestrator');
    expect(chosen.warnings).toEqual([]);
    const message = errorOf(() => load('bad-prefect-config.yaml', { orchestrator: { name: 'PrefectOrchestrator', label: '--deployer' } }));
    expect(message).toMatch(/^test\/fixtures\/config\/bad-prefect-config\.yaml:5:5: orchestrator\.config\.cache_tasks: expected boolean/);
  });

  it('an unknown name on the command line is an error that names the flag', () => {
    expect(errorOf(() => load('valid-prefect.yaml', { orchestrator: { name: 'Airflow', label: '--deployer' } }))).toBe(
      `--deployer: unknown orchestrator 'Airflow'; known: ${knownOrchestrators().join(', ')} (or a module path such as ./my_orchestrator.mjs)`,
    );
  });

  it("without a name, the deployment is lolpop's lolpop-deployment", () => {
    expect(load('missing-name.yaml').deployment.name).toBe('lolpop-deployment');
  });
});

describe("loadConfig: each orchestrator's own kwargs", () => {
  it("a key of another orchestrator is named as that orchestrator's, at its line; a typo stays a typo", () => {
    expect(errorOf(() => load('prefect-key-under-airflow.yaml'))).toBe(
      [
        "test/fixtures/config/prefect-key-under-airflow.yaml:8:7: orchestrator.deployment.deploy.work_pool: PrefectOrchestrator's key; AirflowOrchestrator does not read it",
        'test/fixtures/config/prefect-key-under-airflow.yaml:9:7: orchestrator.deployment.deploy.work_pol: unknown key; check its spelling',
        "test/fixtures/config/prefect-key-under-airflow.yaml:11:7: orchestrator.deployment.run.flow_run_name: PrefectOrchestrator's key; AirflowOrchestrator does not read it",
      ].join('\n'),
    );
  });

  it('the same keys are PrefectOrchestrator\'s own under it', () => {
    const config = loadPrefect('valid-prefect.yaml', { kwargs: { stop: { delete_secret: true } }, runSettings: { flow_run_name: 'nightly' } });
    expect(config.deployment.stop.delete_secret).toBe(true);
    expect(config.deployment.run.flow_run_name).toBe('nightly');
    // Durations are milliseconds once loaded: parsed once, at load time.
    expect(config.deployment.deploy.serve_timeout).toBe(180_000);
  });

  it('the orchestrator chosen by a flag is named with it, and a key from an input names the input', () => {
    expect(errorOf(() => load('valid-prefect.yaml', { orchestrator: { name: 'AirflowOrchestrator', label: '--deployer' } }))).toBe(
      [
        "test/fixtures/config/valid-prefect.yaml:19:14: orchestrator.deployment.deploy.work_pool: PrefectOrchestrator's key; AirflowOrchestrator (chosen by --deployer) does not read it",
        "test/fixtures/config/valid-prefect.yaml:19:38: orchestrator.deployment.deploy.job_variables: PrefectOrchestrator's key; AirflowOrchestrator (chosen by --deployer) does not read it",
      ].join('\n'),
    );
    expect(errorOf(() => load('unknown-orchestrator.yaml', { source: 'flag', kwargs: { stop: { delete_secret: true } } }, {}, { unknownOrchestrator: 'warn' }))).toBe(
      "flag --stop-kwargs: orchestrator.deployment.stop.delete_secret: PrefectOrchestrator's key; LocalOrchestrator does not read it",
    );
  });

  it("a user's module orchestrator without kwargs gets the common ones: a Prefect key is named as such", () => {
    expect(errorOf(() => load('valid-prefect.yaml', { orchestrator: { name: './my_orchestrator.mjs', label: 'input orchestrator' } }))).toMatch(
      /valid-prefect\.yaml:19:14: orchestrator\.deployment\.deploy\.work_pool: PrefectOrchestrator's key; \.\/my_orchestrator\.mjs \(chosen by input orchestrator\) does not read it\n/,
    );
  });

  it.each(['AirflowOrchestrator', 'LocalOrchestrator', 'PrefectOrchestrator'])('the common keys are read by %s, with the same defaults', (orchestrator) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'lolpop-common-')), 'lolpop.yaml');
    const deployment = { deploy: { tags: ['ml'], description: 'd', parameters: { a: 1 } }, run: { wait: true }, stop: { mode: 'delete', cancel_runs: true } };
    writeFileSync(file, stringify({ decorator: { orchestrator }, orchestrator: { deployment } }));
    const config = loadConfigSync(file, {}, orchestratorLookup, {});
    expect(config.orchestrator).toBe(orchestrator);
    expect(config.deployment.package).toMatchObject({ lolpop_entrypoint: 'build_all', flow_name: 'prefect_entrypoint', base_image: DEFAULT_BASE_IMAGE, package_type: 'docker' });
    expect(config.deployment.deploy).toMatchObject({ tags: ['ml'], description: 'd', parameters: { a: 1 } });
    expect(config.deployment.run).toMatchObject({ parameters: {}, wait: true, wait_timeout: 1_800_000, poll_interval: 2000 });
    expect(config.deployment.stop).toMatchObject({ mode: 'delete', cancel_runs: true, cancel_timeout: 60_000 });
  });
});

describe("loadConfig: lolpop's deploy kwargs", () => {
  it("flow_class + flow_entrypoint (lolpop's PrefectOrchestrator docs) name the generated wrapper: nothing to override", () => {
    const config = load('valid-prefect.yaml', { kwargs: { deploy: { flow_class: 'prefect_files.run', flow_entrypoint: 'prefect_entrypoint' } } });
    expect(config.deployment.deploy.flow_entrypoint).toBeUndefined();
  });

  it('flow_class + flow_entrypoint naming another flow become its Prefect entrypoint', () => {
    const config = load('valid-prefect.yaml', { kwargs: { deploy: { flow_class: 'flows.train', flow_entrypoint: 'train' } } });
    expect(config.deployment.deploy.flow_entrypoint).toBe('flows/train.py:train');
  });

  it('a bare function name without flow_class is an error that says what to add', () => {
    expect(errorOf(() => load('valid-prefect.yaml', { kwargs: { deploy: { flow_entrypoint: 'train' } } }))).toMatch(
      /deploy\.flow_entrypoint: 'train' is a function name; give flow_class \(its module, e\.g\. prefect_files\.run\) too, or path\/to\/file\.py:train$/,
    );
  });

  it('deployment_kwargs reach the deploy kwargs; job_variables merge; a key given twice is an error', () => {
    const config = loadPrefect('valid-prefect.yaml', {
      kwargs: { deploy: { job_variables: { a: 1 }, deployment_kwargs: { tags: ['ml'], description: 'd', job_variables: { image_pull_policy: 'Never' }, cron: '0 * * * *' } } },
    });
    expect(config.deployment.deploy).toMatchObject({ tags: ['ml'], description: 'd', job_variables: { a: 1, image_pull_policy: 'Never' } });
    expect(config.deployment.deploy.deployment_kwargs?.cron).toBe('0 * * * *');
    expect(errorOf(() => load('valid-prefect.yaml', { kwargs: { deploy: { tags: ['a'], deployment_kwargs: { tags: ['b'] } } } }))).toMatch(
      /deploy\.deployment_kwargs\.tags: also given as deploy\.tags; give it once$/,
    );
  });

  it("an argument of Prefect's deploy() that means nothing over REST is refused by name", () => {
    expect(errorOf(() => load('valid-prefect.yaml', { kwargs: { deploy: { deployment_kwargs: { build: false } } } }))).toBe(
      'input deployment-kwargs: orchestrator.deployment.deploy.deployment_kwargs.build: unknown key; check its spelling',
    );
  });

  it("docker_kwargs take lolpop's dict form as well as a list", () => {
    const config = load('valid-prefect.yaml', { kwargs: { package: { docker_kwargs: { network: 'host', 'no-cache': true, pull: false, label: ['a=1', 'b=2'] } } } });
    expect(config.deployment.package.docker_kwargs).toEqual(['--network', 'host', '--no-cache', '--label', 'a=1', '--label', 'b=2']);
  });

  it('run-kwargs are flow parameters merged over run.parameters; --wait is a run setting', () => {
    const config = load('valid-prefect.yaml', { kwargs: { run: { n: 3 } }, runSettings: { wait: true } });
    expect(config.deployment.run).toMatchObject({ parameters: { n: 3 }, wait: true });
  });
});

describe('loadConfig: valid files', () => {
  it("reads the quickstart of lolpop's PrefectOrchestrator docs with lolpop's defaults filled in", () => {
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
    expect(config.deployment.run).toMatchObject({ parameters: {}, wait: false, wait_timeout: 1_800_000 });
    expect(config.deployment.stop).toMatchObject({ mode: 'pause', cancel_runs: false });
    expect(config.orchestratorConfig).toMatchObject({ prefect_profile: 'default', cache_tasks: true, flow_kwargs: { log_prints: true } });
  });

  it('accepts the singular spellings lolpop also uses', () => {
    expect(load('singular-spelling.yaml').orchestrator).toBe('PrefectOrchestrator');
  });

  it('overrides merge key by key, like the CLI flags', () => {
    const config = loadPrefect('valid-prefect.yaml', {
      deploymentName: 'other',
      kwargs: { deploy: { work_queue_name: 'q' }, run: { n: 3 } },
      runSettings: { wait: true },
    });
    expect(config.deployment.name).toBe('other');
    expect(config.deployment.deploy.work_pool).toBe('docker-pool');
    expect(config.deployment.deploy.work_queue_name).toBe('q');
    expect(config.deployment.run).toMatchObject({ parameters: { n: 3 }, wait: true });
  });

  it('preview deployments get their suffix', () => {
    expect(load('valid-prefect.yaml', { deploymentNameSuffix: '-pr-7' }).deployment.name).toBe('quickstart-pr-7');
  });

  it('expands ${VAR}, keeps $${ literal, and reports the values of secret-named variables as secrets', () => {
    const config = load('env-reference.yaml', {}, { LPD_TEST_URL: 'http://x/api', LPD_TEST_KEY: 'pnu_secret', GITHUB_RUN_NUMBER: '42' });
    const settings = (config.orchestratorConfig as { prefect_settings: Record<string, string> }).prefect_settings;
    expect(settings).toEqual({ PREFECT_API_URL: 'http://x/api', PREFECT_API_KEY: 'pnu_secret' });
    expect(config.deployment.name).toBe('quickstart-42');
    expect(config.deployment.run.parameters).toEqual({ literal: '${NOT_EXPANDED}' });
    expect(config.secrets).toEqual(['pnu_secret']);
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
