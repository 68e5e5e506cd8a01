import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { service } from '../helpers/services.js';

/** The real Airflow started by scripts/airflow-services.sh, or undefined (tests skip, unless REQUIRE_SERVICES=1). */
export function airflowService(): { url: string; username: string; password: string; dagsFolder: string } | undefined {
  const url = service('LOLPOP_TEST_AIRFLOW_URL');
  const username = service('LOLPOP_TEST_AIRFLOW_USERNAME');
  const password = service('LOLPOP_TEST_AIRFLOW_PASSWORD');
  const dagsFolder = service('LOLPOP_TEST_AIRFLOW_DAGS_FOLDER');
  return url && username && password && dagsFolder ? { url, username, password, dagsFolder } : undefined;
}

/** What the tool reads its connection from. */
export function airflowEnv(airflow: { url: string; username: string; password: string }): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, AIRFLOW_API_URL: airflow.url, AIRFLOW_USERNAME: airflow.username, AIRFLOW_PASSWORD: airflow.password };
}

/**
 * A plain Python runner shaped like a lolpop one (a class built with conf, an entrypoint
 * method taking the run parameters), so these tests need only Airflow: it runs on the
 * worker's own Python. `sleep` keeps it running, `fail` raises, `marker` proves it ran.
 */
export const TINY_RUNNER_PY = `import json
import os
import time


class TinyRunner:
    def __init__(self, conf, skip_config_validation=False):
        with open(conf, encoding="utf-8") as f:
            self.conf_text = f.read()

    def build_all(self, greeting="hello", fail=False, sleep=0, marker=None):
        print("tiny runner: %s from %s" % (greeting, os.path.basename(os.getcwd())), flush=True)
        if sleep:
            time.sleep(sleep)
        if marker:
            with open(marker, "w", encoding="utf-8") as f:
                json.dump({"greeting": greeting, "run_id": os.environ.get("LOLPOP_DEPLOY_RUN_ID")}, f)
        if fail:
            print("tiny runner: about to fail", flush=True)
            raise RuntimeError("the model diverged: %s" % greeting)
        print("tiny runner: done", flush=True)
`;

export interface TinyConfig {
  name: string;
  /** The lines under `orchestrator.config:` (indented four spaces) for a delivery other than the folder. */
  delivery?: string;
  dagsFolder?: string;
  parameters?: Record<string, unknown>;
  stop?: string;
  python?: string;
  runner?: string;
}

/** Writes the tiny runner and a lolpop.yaml for it into `dir`; returns the config's text. */
export function writeTinyWorkflow(dir: string, options: TinyConfig): string {
  writeFileSync(path.join(dir, 'tiny_runner.py'), options.runner ?? TINY_RUNNER_PY);
  const yaml = `
orchestrator:
  config:
${options.delivery ?? `    dags_folder: ${JSON.stringify(options.dagsFolder)}\n    parse_timeout: 90s\n`}${options.python ? `    python: ${JSON.stringify(options.python)}\n` : ''}  deployment:
    name: ${options.name}
    type: local
    package:
      lolpop_class: TinyRunner
      lolpop_module: tiny_runner
      lolpop_entrypoint: build_all
      package_type: none
      config_file: lolpop.yaml
      copy_files: [tiny_runner.py]
    run:
      parameters: ${JSON.stringify(options.parameters ?? {})}
${options.stop ? `    stop: ${options.stop}\n` : ''}`;
  writeFileSync(path.join(dir, 'lolpop.yaml'), yaml);
  return yaml;
}

/** A REST call as a user with curl would make it, to check the server's real state. */
export async function airflowGet<T>(airflow: { url: string; username: string; password: string }, pathname: string): Promise<{ status: number; body: T }> {
  const token = await login(airflow);
  const res = await fetch(`${airflow.url}/api/v2/${pathname}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function airflowCall(airflow: { url: string; username: string; password: string }, method: string, pathname: string, body?: unknown): Promise<number> {
  const token = await login(airflow);
  const res = await fetch(`${airflow.url}/api/v2/${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

const tokens = new Map<string, string>();
async function login(airflow: { url: string; username: string; password: string }): Promise<string> {
  const cached = tokens.get(airflow.url);
  if (cached) return cached;
  const res = await fetch(`${airflow.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: airflow.username, password: airflow.password }),
  });
  if (res.status !== 201) throw new Error(`login: ${res.status} ${await res.text()}`);
  const token = ((await res.json()) as { access_token: string }).access_token;
  tokens.set(airflow.url, token);
  return token;
}

/** Polls `check` until it returns a value or the timeout. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
