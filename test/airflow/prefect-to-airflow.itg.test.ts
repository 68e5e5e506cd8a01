import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, gitRepository, service, tempDir } from '../helpers/services.js';
import { airflowEnv, airflowService } from './helpers.js';

const airflow = airflowService();
const prefectUrl = service('LOLPOP_TEST_PREFECT_URL');
const pool = service('LOLPOP_TEST_PROCESS_POOL') ?? 'ci-process';

/** A plain runner kept where lolpop's PrefectOrchestrator keeps it: under prefect_files/, next to run.py. */
const RUNNER_PY = `import json
from runner_helpers import shout


class MovingRunner:
    def __init__(self, conf, skip_config_validation=False):
        with open(conf, encoding="utf-8") as f:
            self.conf_text = f.read()

    def build_all(self, greeting="hello", marker=None):
        with open(marker, "w", encoding="utf-8") as f:
            json.dump({"said": shout(greeting), "conf_has_runner_block": "min_accuracy" in self.conf_text}, f)
`;

/** The workflow's config, with the orchestrator section for one orchestrator or the other. */
function workflowYaml(name: string, orchestrator: { config: string; deploy?: string; parameters: Record<string, unknown> }): string {
  return `# The runner's own config: the same on both orchestrators.
config:
  min_accuracy: 0.8
orchestrator:
  config:
${orchestrator.config}
  deployment:
    name: ${name}
    type: local
    package:
      lolpop_class: MovingRunner
      lolpop_module: moving_runner
      lolpop_entrypoint: build_all
      package_type: none
      config_file: lolpop.yaml
${orchestrator.deploy ?? ''}    run:
      parameters: ${JSON.stringify(orchestrator.parameters)}
`;
}

// Issue 22: the same workflow moves from Prefect to Airflow by its orchestrator section
// alone, with the runner module under prefect_files/ (where the image and the process
// worker's checkout have it): on the old release, Airflow's run ended in ModuleNotFoundError.
describe.skipIf(!airflow || !prefectUrl)('the same workflow on a real Prefect 3 process worker and a real Airflow 3', () => {
  it('differs only in the orchestrator section, and runs to COMPLETED on both', async () => {
    const uid = randomUUID().slice(0, 6);
    const name = `moving-${uid}`;
    const markers = tempDir('moving-marker');
    const prefectYaml = workflowYaml(name, {
      config: `    prefect_settings: {PREFECT_API_URL: "${prefectUrl}"}`,
      deploy: `    deploy:\n      work_pool: ${pool}\n`,
      parameters: { greeting: 'prefect', marker: path.join(markers, 'prefect.json') },
    });
    const airflowYaml = workflowYaml(name, {
      config: `    dags_folder: ${JSON.stringify(airflow!.dagsFolder)}\n    parse_timeout: 90s\n    request_timeout: 90s`,
      parameters: { greeting: 'airflow', marker: path.join(markers, 'airflow.json') },
    });
    const outside = (text: string) => Object.fromEntries(Object.entries(parse(text) as Record<string, unknown>).filter(([key]) => key !== 'orchestrator'));
    expect(outside(airflowYaml)).toEqual(outside(prefectYaml));
    expect(outside(prefectYaml)).toHaveProperty('config');

    // The workflow's repository, which Prefect's process worker clones.
    const root = tempDir('moving-git');
    const repository = `acme/moving-${uid}`;
    gitRepository(root, repository, {
      'prefect_files/moving_runner.py': RUNNER_PY,
      'prefect_files/runner_helpers.py': 'def shout(s):\n    return s.upper() + "!"\n',
    });
    const dir = path.join(root, `${repository}.git`);
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', ...args], { encoding: 'utf8' }).trim();
    // package writes prefect_files/run.py, which the Prefect deployment's entrypoint is; the user commits it.
    const PREFECT = { orchestrator: { name: 'PrefectOrchestrator', label: '--orchestrator' } };
    const packaged = await runConfig({ dir, yaml: prefectYaml, env: {}, ci: ciContext(), steps: 'package', overrides: PREFECT });
    expect(packaged.result.error, packaged.logger.lines.join('\n')).toBeUndefined();
    git('add', '.');
    git('commit', '-q', '-m', 'packaged');
    const sha = git('rev-parse', 'HEAD');
    const ci = ciContext({ serverUrl: `file://${root}`, repository, sha, shortSha: sha.slice(0, 7), runId: randomUUID(), runAttempt: '1' });
    const wait = { runSettings: { wait: true, wait_timeout: '150s', poll_interval: '1s' } };

    const onPrefect = await runConfig({ dir, yaml: prefectYaml, env: {}, ci, steps: 'deploy,run', overrides: { ...PREFECT, ...wait } });
    expect(onPrefect.result.error, onPrefect.logger.lines.join('\n')).toBeUndefined();
    expect(onPrefect.result.run?.state).toBe('COMPLETED');
    expect(JSON.parse(readFileSync(path.join(markers, 'prefect.json'), 'utf8'))).toEqual({ said: 'PREFECT!', conf_has_runner_block: true });

    // Airflow from a working directory of its own: the same files, and nothing of Prefect's run.
    const airflowDir = tempDir('moving-airflow');
    mkdirSync(path.join(airflowDir, 'prefect_files'));
    for (const file of ['prefect_files/moving_runner.py', 'prefect_files/runner_helpers.py']) writeFileSync(path.join(airflowDir, file), readFileSync(path.join(dir, file)));
    const onAirflow = await runConfig({
      dir: airflowDir,
      yaml: airflowYaml,
      env: airflowEnv(airflow!),
      ci: ciContext({ repository, runId: randomUUID(), runAttempt: '1' }),
      steps: 'package,deploy,run',
      overrides: { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' }, ...wait },
    });
    expect(onAirflow.result.error, onAirflow.logger.lines.join('\n')).toBeUndefined();
    expect(onAirflow.result.run?.state).toBe('COMPLETED');
    expect(JSON.parse(readFileSync(path.join(markers, 'airflow.json'), 'utf8'))).toEqual({ said: 'AIRFLOW!', conf_has_runner_block: true });
  });
});
