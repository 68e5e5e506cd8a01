import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { PackageKwargs } from '../../src/config/schema.js';
import type { AirflowConfig } from '../../src/orchestrators/airflow/config.js';
import { airflowTask } from '../../src/orchestrators/airflow/task.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { ciContext } from '../helpers/services.js';
import { resolvedFrom } from '../helpers/requests.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

const load = (name: string) => loadConfigSync(path.join('test/fixtures/config', name), {}, orchestratorLookup, {});


describe('orchestrator.config task and docker: the messages a user sees', () => {
  it('each bad docker setting at its line and column (inside a list item too), by its key', () => {
    expect(errorOf(() => load('airflow-docker-bad.yaml'))).toBe(
      [
        'test/fixtures/config/airflow-docker-bad.yaml:7:7: orchestrator.config.docker.docker_url: expected a Docker engine URL, e.g. unix://var/run/docker.sock or tcp://docker:2376',
        'test/fixtures/config/airflow-docker-bad.yaml:8:7: orchestrator.config.docker.auto_remove: Invalid option: expected one of "never"|"success"|"force"',
        'test/fixtures/config/airflow-docker-bad.yaml:11:11: orchestrator.config.docker.mounts[0].source: a bind mount needs an absolute source path on the Docker host, e.g. /srv/data',
        'test/fixtures/config/airflow-docker-bad.yaml:14:9: orchestrator.config.docker.environment.LOLPOP_DEPLOY_CONF: LOLPOP_DEPLOY_* variables are set by lolpop-deploy (the run\'s conf, run id and deployment)',
        'test/fixtures/config/airflow-docker-bad.yaml:15:7: orchestrator.config.docker.netwrk_mode: unknown key; did you mean network_mode?',
      ].join('\n'),
    );
  });

  it('an unknown task kind', () => {
    expect(errorOf(() => load('airflow-bad-task.yaml'))).toBe(
      'test/fixtures/config/airflow-bad-task.yaml:5:5: orchestrator.config.task: Invalid option: expected one of "bash"|"docker"|"kubernetes"',
    );
  });

  it("one kind's keys under the other kind are refused, not ignored", () => {
    expect(errorOf(() => load('airflow-docker-keys-under-bash.yaml'))).toBe(
      'test/fixtures/config/airflow-docker-keys-under-bash.yaml:6:5: orchestrator.config.docker: only read with task: docker (the default task is bash); set task: docker or remove it',
    );
    expect(errorOf(() => load('airflow-python-under-docker.yaml'))).toBe(
      "test/fixtures/config/airflow-python-under-docker.yaml:6:5: orchestrator.config.python: task: docker runs the runner with the image's own python; python is for task: bash",
    );
  });
});

describe('airflowTask: the one decision of what the DAG runs', () => {
  const ci = ciContext({ sha: 'c0ffee0123456789abcdef0123456789abcdef01', shortSha: 'c0ffee0' });
  const config = (over: Partial<AirflowConfig>) => ({ parse_timeout: 1, request_timeout: 1, dag_tags: [], task: 'bash', ...over }) as AirflowConfig;
  const pkg = (over: Record<string, unknown> = {}) => PackageKwargs.parse({ lolpop_class: 'QuickstartRunner', ...over });
  // The deployment as resolved for this CI run (its image tag rendered once there).
  const resolved = (over: Record<string, unknown> = {}) => resolvedFrom('AirflowOrchestrator', { package: pkg(over) }, ci);

  it('bash by default, with the configured interpreter, else AIRFLOW_LOLPOP_PYTHON', () => {
    expect(airflowTask(config({}), {}, resolved())).toEqual({ kind: 'bash', python: undefined });
    expect(airflowTask(config({}), { AIRFLOW_LOLPOP_PYTHON: '/venv/bin/python' }, resolved())).toEqual({ kind: 'bash', python: '/venv/bin/python' });
    expect(airflowTask(config({ python: '/x/python' }), { AIRFLOW_LOLPOP_PYTHON: '/venv/bin/python' }, resolved())).toEqual({ kind: 'bash', python: '/x/python' });
  });

  it("docker: the image package builds (the tag the package settings name, rendered for this run), with DockerOperator's defaults but auto_remove force", () => {
    const task = airflowTask(config({ task: 'docker' }), {}, resolved({ docker_image_tag: 'registry.example/acme/q:{short_sha}' }));
    expect(task).toEqual({
      kind: 'docker',
      image: 'registry.example/acme/q:c0ffee0',
      docker: { auto_remove: 'force', force_pull: false, mount_tmp_dir: true, mounts: [], environment: {} },
    });
    expect(airflowTask(config({ task: 'docker' }), {}, resolved())).toMatchObject({ image: 'lolpop-quickstartrunner-build-all:latest' });
  });

  it('docker with package_type none: there would be no image to run', () => {
    expect(errorOf(() => airflowTask(config({ task: 'docker' }), {}, resolved({ package_type: 'none' })))).toBe(
      "orchestrator.config.task is docker, but orchestrator.deployment.package.package_type is none: the task runs the package's image, so package must build it (package_type: docker), or use task: bash",
    );
  });
});
