import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prefectApi, runConfig } from '../helpers/pipeline.js';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { SECRET, SECRET_FORMS } from './atrest-stand-ins.js';

// Secrets at rest on the REAL Prefect servers CI starts (scripts/services.sh): a `${VAR}` run
// parameter listed in run.secret_parameters goes to a Secret block; the deployment and the
// flow run stored on the server hold only the block's name; the flow the process worker really
// runs (the generated prefect_files/run.py) loads the value and hands it to the runner; stop
// with mode delete deletes the block.

const servers = [
  { major: 3, apiUrl: service('LOLPOP_TEST_PREFECT_URL'), pool: service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process' },
  { major: 2, apiUrl: service('LOLPOP_TEST_PREFECT2_URL'), pool: service('LOLPOP_TEST_PROCESS_POOL_2') ?? 'ci-process-2' },
];

/**
 * The runner the generated flow wraps: no lolpop needed (the Prefect 3 worker's venv has
 * none). build_all writes what it received to the file its `out` parameter names.
 */
const SECRET_RUNNER_PY = `
import json


class SecretRunner:
    def __init__(self, conf=None, skip_config_validation=False):
        self.conf = conf

    def build_all(self, out, **kwargs):
        with open(out, "w", encoding="utf-8") as f:
            json.dump(kwargs, f)
`;

describe.each(servers)('secrets at rest on a real Prefect $major server and process worker', ({ apiUrl, pool }) => {
  it.skipIf(!apiUrl)(
    'the worker-run flow gets the value from its Secret block; deployment and flow-run parameters hold only the block name; stop (delete) deletes the block',
    async () => {
      const uid = randomUUID().slice(0, 8);
      const name = `atrest-${uid}`;
      const out = path.join(tempDir('atrest-out'), 'received.json');
      const yaml = (mode: 'pause' | 'delete') => `
decorator: {orchestrator: PrefectOrchestrator}
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${apiUrl}"}
  deployment:
    name: ${name}
    type: local
    package: {lolpop_class: SecretRunner, lolpop_module: secret_runner}
    deploy: {work_pool: ${pool}}
    run:
      parameters: {api_key: "\${ATREST_API_KEY}", team: ml, out: "${out}"}
      secret_parameters: [api_key]
      wait: true
      wait_timeout: 150s
      poll_interval: 1s
    stop: {mode: ${mode}}
`;
      const env = { ATREST_API_KEY: SECRET } as NodeJS.ProcessEnv;

      // package writes prefect_files/run.py; the process worker runs the commit, so commit it.
      const dir = tempDir('atrest-prefect-itg');
      mkdirSync(path.join(dir, 'prefect_files'));
      writeFileSync(path.join(dir, 'prefect_files/dev.yaml'), 'conf: {}\n');
      writeFileSync(path.join(dir, 'secret_runner.py'), SECRET_RUNNER_PY);
      const packaged = await runConfig({ dir, yaml: yaml('delete'), env, ci: ciContext(), steps: 'package' });
      expect(packaged.result.error, packaged.logger.lines.join('\n')).toBeUndefined();
      const runPy = readFileSync(path.join(dir, 'prefect_files/run.py'), 'utf8');
      expect(runPy).toContain('Secret.load(block).get()');
      const root = tempDir('gh');
      const repository = `acme/atrest-${uid}`;
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', ...args], { cwd: dir, encoding: 'utf8' }).trim();
      git('init', '-q', '-b', 'main');
      git('add', '.');
      git('commit', '-q', '-m', 'secret runner');
      mkdirSync(path.join(root, 'acme'), { recursive: true });
      git('clone', '-q', '--bare', '.', path.join(root, `${repository}.git`));
      const sha = git('rev-parse', 'HEAD');
      const ci = ciContext({ serverUrl: `file://${root}`, repository, sha, shortSha: sha.slice(0, 7), runId: randomUUID(), runAttempt: '1' });

      const { result, logger } = await runConfig({ dir, yaml: yaml('delete'), env, ci, steps: 'deploy,run' });
      const log = logger.lines.join('\n');
      expect(result.error, log).toBeUndefined();
      expect(result.run!.state, log).toBe('COMPLETED');

      // The flow the worker ran got the value (and the plain parameters) as keyword arguments.
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ api_key: SECRET, team: 'ml' });

      // What the server stores: the deployment's and the flow run's parameters name the block only.
      const blockName = /Prefect Secret block (\S+)/.exec(log)?.[1];
      expect(blockName, log).toMatch(new RegExp(`^lolpop-${name}-api-key-[0-9a-f]{8}$`));
      const deployment = await prefectApi<{ parameters: unknown }>(apiUrl!, 'GET', `deployments/${result.deployment!.id}`);
      const flowRun = await prefectApi<{ parameters: unknown }>(apiUrl!, 'GET', `flow_runs/${result.run!.id}`);
      expect(deployment.parameters).toEqual({ params: {}, lolpop_secret_parameters: { api_key: blockName } });
      expect(flowRun.parameters).toEqual({ params: { team: 'ml', out }, lolpop_secret_parameters: { api_key: blockName } });
      for (const form of SECRET_FORMS) {
        expect(JSON.stringify(deployment)).not.toContain(form);
        expect(JSON.stringify(flowRun)).not.toContain(form);
      }
      // The block exists on the server (its value comes back only when asked for unobfuscated).
      const block = await prefectApi<{ data: { value: unknown } }>(
        apiUrl!,
        'GET',
        `block_types/slug/secret/block_documents/name/${blockName}?include_secrets=true`,
      );
      expect(block.data.value).toBe(SECRET);

      // stop with mode delete: the deployment and its Secret block are gone.
      const stopped = await runConfig({ dir, yaml: yaml('delete'), env, ci, steps: 'stop' });
      expect(stopped.result.error, stopped.logger.lines.join('\n')).toBeUndefined();
      expect(stopped.result.stopped?.detail).toContain(`deleted Secret block ${blockName}`);
      await expect(prefectApi(apiUrl!, 'GET', `block_types/slug/secret/block_documents/name/${blockName}`)).rejects.toThrow(/404/);
      await expect(prefectApi(apiUrl!, 'GET', `deployments/${result.deployment!.id}`)).rejects.toThrow(/404/);
    },
    240_000,
  );
});
