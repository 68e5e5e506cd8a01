import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { airflowEnv, airflowGet, airflowService, writeTinyWorkflow } from '../airflow/helpers.js';
import { runConfig } from '../helpers/pipeline.js';
import { ciContext, service, tempDir } from '../helpers/services.js';
import { SECRET, SECRET_FORMS } from './atrest-stand-ins.js';

// Secrets at rest on the REAL Airflow servers CI starts (scripts/airflow-services.sh): a
// `${VAR}` run parameter listed in run.secret_parameters goes to an Airflow Variable; the DAG
// file, the release delivered next to it and the run's conf hold only the Variable's key; the
// task Airflow really runs gets the value; stop with mode delete deletes the Variable.

interface Airflow {
  url: string;
  username: string;
  password: string;
  dagsFolder: string;
}

function airflow2(): Airflow | undefined {
  const url = service('LOLPOP_TEST_AIRFLOW2_URL');
  const username = service('LOLPOP_TEST_AIRFLOW2_USERNAME');
  const password = service('LOLPOP_TEST_AIRFLOW2_PASSWORD');
  const dagsFolder = service('LOLPOP_TEST_AIRFLOW2_DAGS_FOLDER');
  return url && username && password && dagsFolder ? { url, username, password, dagsFolder } : undefined;
}

/** GET under Airflow 2's /api/v1, as its own clients call it (basic auth). */
async function v1Get<T>(airflow: Airflow, pathname: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${airflow.url}/api/v1/${pathname}`, {
    headers: { authorization: `Basic ${Buffer.from(`${airflow.username}:${airflow.password}`).toString('base64')}` },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const servers = [
  { major: 3, airflow: airflowService(), get: airflowGet },
  { major: 2, airflow: airflow2(), get: v1Get },
];

const AIRFLOW = { orchestrator: { name: 'AirflowOrchestrator', label: '--orchestrator' } };

/** The runner the DAG's task runs: writes what it received to the file `out` names. */
const RUNNER_PY = `import json


class TinyRunner:
    def __init__(self, conf, skip_config_validation=False):
        pass

    def build_all(self, out, **kwargs):
        with open(out, "w", encoding="utf-8") as f:
            json.dump(kwargs, f)
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

describe.each(servers)('secrets at rest on a real Airflow $major', ({ airflow, get }) => {
  it.skipIf(!airflow)(
    'the task gets the value from its Variable; the DAG file, the release and the run conf hold only the key; stop (delete) deletes the Variable',
    async () => {
      const dir = tempDir('atrest-airflow-itg');
      const name = `atrest-${randomUUID().slice(0, 8)}`;
      const out = path.join(dir, 'received.json');
      const yaml = writeTinyWorkflow(dir, {
        name,
        dagsFolder: airflow!.dagsFolder,
        parameters: { api_key: '${ATREST_API_KEY}', team: 'ml', out },
        stop: '{mode: delete}',
        runner: RUNNER_PY,
      }).replace(/^( {4}run:\n {6}parameters: .*\n)/m, '$1      secret_parameters: [api_key]\n');
      expect(yaml).toContain('secret_parameters: [api_key]');
      const env = { ...airflowEnv(airflow!), ATREST_API_KEY: SECRET };
      const ci = ciContext({ repository: 'acme/atrest', runId: randomUUID(), runAttempt: '1' });
      const { result, logger } = await runConfig({
        dir,
        yaml,
        env,
        ci,
        steps: 'package,deploy,run',
        overrides: { ...AIRFLOW, runSettings: { wait: true, wait_timeout: '180s', poll_interval: '1s' } },
      });
      const log = logger.lines.join('\n');
      expect(result.error, log).toBeUndefined();
      expect(result.run?.state, log).toBe('COMPLETED');

      // The task Airflow ran got the value (and the plain parameters).
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ api_key: SECRET, team: 'ml' });

      // The Variable exists on the server under the key the DAG file reads.
      const key = /Airflow Variable (\S+)/.exec(log)?.[1];
      expect(key, log).toMatch(new RegExp(`^lolpop_secret__${name}__api_key__[0-9a-f]{8}$`));
      expect((await get(airflow!, `variables/${key}`)).status).toBe(200);

      // The run's conf as the server stores it: the plain parameters only.
      const run = await get<{ state: string; conf: Record<string, unknown> }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(result.run!.id)}`);
      expect(run.body.state).toBe('success');
      expect(run.body.conf).toEqual({ team: 'ml', out });
      for (const form of SECRET_FORMS) expect(JSON.stringify(run.body)).not.toContain(form);

      // Nothing written at rest holds it: the DAG file and release in the DAGs folder, the generated files.
      const delivered = filesUnder(path.join(airflow!.dagsFolder, name));
      const written = [...delivered, ...filesUnder(path.join(dir, 'prefect_files'))];
      expect(delivered.some((f) => f.endsWith('run_task.py'))).toBe(true);
      for (const file of written) {
        const text = readFileSync(file);
        for (const form of SECRET_FORMS) expect(text.includes(Buffer.from(form)), file).toBe(false);
      }
      const dagFile = readFileSync(path.join(airflow!.dagsFolder, name, `${name}.py`), 'utf8');
      expect(dagFile).toContain(`{{ var.value.get('${key}') }}`);

      // stop with mode delete: the DAG, its files and the Variable are gone.
      const stopped = await runConfig({ dir, yaml, env, ci, steps: 'stop', overrides: AIRFLOW });
      expect(stopped.result.error, stopped.logger.lines.join('\n')).toBeUndefined();
      expect(stopped.result.stopped?.detail).toContain(`deleted Variable ${key}`);
      expect((await get(airflow!, `variables/${key}`)).status).toBe(404);
      expect(existsSync(path.join(airflow!.dagsFolder, name))).toBe(false);
    },
    300_000,
  );
});
