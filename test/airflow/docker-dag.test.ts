import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployKwargs, PackageKwargs } from '../../src/config/schema.js';
import { buildBundle } from '../../src/orchestrators/airflow/bundle.js';
import type { DockerResources } from '../../src/docker/resources.js';
import { DockerTaskConfig } from '../../src/orchestrators/airflow/docker-config.js';
import { CONTAINER_TASK_PY, type AirflowTask } from '../../src/orchestrators/airflow/task.js';
import { LAUNCHER_PY } from '../../src/packaging/launcher.js';
import { tempDir } from '../helpers/services.js';
import { resolvedFrom } from '../helpers/requests.js';
import { TINY_RUNNER_PY } from './helpers.js';

const docker = (over: Record<string, unknown> = {}, image = '127.0.0.1:5000/acme/q:c0ffee0'): AirflowTask => ({ kind: 'docker', image, docker: DockerTaskConfig.parse(over) });
const limited = (resources: DockerResources): AirflowTask => ({ kind: 'docker', image: '127.0.0.1:5000/acme/q:c0ffee0', docker: DockerTaskConfig.parse({}), resources });
const pkg = PackageKwargs.parse({ lolpop_class: 'TinyRunner', lolpop_module: 'tiny_runner', config_file: 'lolpop.yaml', copy_files: ['tiny_runner.py'] });

function bundle(task: AirflowTask, parameters: Record<string, unknown> = { greeting: 'from deploy' }) {
  // No workflow files on disk: a docker task's release does not copy them (the image has them).
  return buildBundle({ deployment: resolvedFrom('AirflowOrchestrator', { name: 'q', package: pkg, deploy: DeployKwargs.parse({ parameters }) }), workdir: tempDir('airflow-docker'), task, extraTags: [] });
}

describe('the docker task: the DAG file', () => {
  it('is one DockerOperator running container_task.py with the image\'s python; spec and launcher untemplated, conf and run id templated', () => {
    const dag = bundle(docker()).dagFile;
    expect(dag).toContain('from airflow.providers.docker.operators.docker import DockerOperator');
    expect(dag).not.toContain('BashOperator');
    expect(dag).toContain('IMAGE = "127.0.0.1:5000/acme/q:c0ffee0"');
    expect(dag).toContain(
      [
        '    DockerOperator(',
        '        task_id="build_all",',
        '        image=IMAGE,',
        '        command=["python", "-c", release_file("container_task.py")],',
        '        environment={',
        '            "LOLPOP_DEPLOY_CONF": "{{ dag_run.conf | tojson }}",',
        '            "LOLPOP_DEPLOY_RUN_ID": "{{ run_id }}",',
        '            "LOLPOP_DEPLOY_DEPLOYMENT": verbatim("q"),',
        '            "PYTHONUNBUFFERED": "1",',
        '            "PYTHONDONTWRITEBYTECODE": "1",',
        '        },',
        '        private_environment={',
        '            "LOLPOP_DEPLOY_SPEC": release_file("spec.json"),',
        '            "LOLPOP_DEPLOY_LAUNCHER": release_file("launcher.py"),',
        '        },',
        '        auto_remove="force",',
        '        force_pull=False,',
        '        mount_tmp_dir=True,',
        '        mounts=[],',
        '    )',
      ].join('\n'),
    );
  });

  it('carries each DockerOperator setting the config gives, and nothing it leaves out', () => {
    const dag = bundle(
      docker({
        docker_url: 'tcp://docker:2376',
        network_mode: 'host',
        docker_conn_id: 'registry',
        auto_remove: 'never',
        force_pull: true,
        mount_tmp_dir: false,
        mounts: [{ target: '/data', source: '/srv/data', type: 'bind', read_only: true }, { target: '/cache' }],
        environment: { MLFLOW_TRACKING_URI: 'http://mlflow:5000', TOKEN: '{{ var.value.token }}' },
      }),
    ).dagFile;
    expect(dag).toContain('            "TOKEN": "{{ var.value.token }}",\n        },');
    expect(dag).toContain('        docker_url="tcp://docker:2376",\n        network_mode="host",\n        docker_conn_id="registry",\n        auto_remove="never",\n        force_pull=True,\n        mount_tmp_dir=False,');
    expect(dag).toContain('mounts=[{"target": "/data", "source": "/srv/data", "type": "bind", "read_only": True}, {"target": "/cache", "type": "volume", "read_only": False}],');
    expect(bundle(docker()).dagFile).not.toMatch(/docker_url|network_mode|docker_conn_id/);
  });

  it('deploy.resources: mem_limit and device_requests as DockerOperator\'s own arguments; --cpus and --memory-reservation through its subclass', () => {
    const all = bundle(limited({ nanoCpus: 500_000_000, memoryBytes: 268_435_456, memoryReservationBytes: 67_108_864, gpus: 1 })).dagFile;
    expect(all).toContain('from docker.types import DeviceRequest\n');
    expect(all).toContain('class DockerOperatorWithLimits(DockerOperator):');
    expect(all).toContain(
      [
        '        mounts=[],',
        '        mem_limit=268435456,',
        '        device_requests=[DeviceRequest(count=1, capabilities=[["gpu"]])],',
        '        host_config_extra={"nano_cpus": 500000000, "mem_reservation": 67108864},',
        '    )',
      ].join('\n'),
    );
    expect(all).toContain('    DockerOperatorWithLimits(\n        task_id="build_all",');
    // Only what DockerOperator has arguments for: no subclass, no host_config_extra.
    const own = bundle(limited({ memoryBytes: 1024 })).dagFile;
    expect(own).toContain('    DockerOperator(\n');
    expect(own).toContain('        mem_limit=1024,\n    )');
    expect(own).not.toMatch(/DockerOperatorWithLimits|host_config_extra|DeviceRequest/);
    expect(bundle(limited({ memoryBytes: 1024 })).fingerprint).not.toBe(bundle(docker()).fingerprint);
    const file = path.join(tempDir('airflow-docker'), 'dag.py');
    writeFileSync(file, all);
    execFileSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file]);
  });

  it('is valid Python', () => {
    const file = path.join(tempDir('airflow-docker'), 'dag.py');
    writeFileSync(file, bundle(docker({ environment: { QUOTE: "it's \"x\"" } }, "weird'image:1")).dagFile);
    execFileSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file]);
  });
});

describe('the docker task: the release', () => {
  it('holds the launcher, container_task.py and a spec for the image\'s WORKDIR; no workflow files (they are in the image)', () => {
    const b = bundle(docker());
    expect(b.release.map((f) => f.path)).toEqual(['launcher.py', 'container_task.py', 'spec.json']);
    expect(JSON.parse(String(b.release[2]!.content))).toEqual({
      workdir: '.',
      parameters: { greeting: 'from deploy' },
      python_path: ['prefect_files'],
      runner: { module: 'tiny_runner', class: 'TinyRunner', entrypoint: 'build_all', config_file: 'lolpop.yaml', skip_validation: false },
    });
  });

  it('gets another fingerprint for another image or DockerOperator setting, the same for the same', () => {
    const first = bundle(docker()).fingerprint;
    expect(bundle(docker()).fingerprint).toBe(first);
    expect(bundle(docker({}, '127.0.0.1:5000/acme/q:beef')).fingerprint).not.toBe(first);
    expect(bundle(docker({ network_mode: 'host' })).fingerprint).not.toBe(first);
  });

  it('container_task.py has no brace at all: Airflow renders the command as a Jinja template', () => {
    expect(CONTAINER_TASK_PY).not.toMatch(/[{}]/);
    expect(CONTAINER_TASK_PY.trimEnd()).not.toMatch(/\.(sh|bash|env)$/); // DockerOperator's template_ext: would be read as a file name
  });

  it('container_task.py runs the runner from the WORKDIR with the conf merged over the deploy parameters, without Prefect', () => {
    const dir = tempDir('airflow-container');
    writeFileSync(path.join(dir, 'tiny_runner.py'), TINY_RUNNER_PY);
    writeFileSync(path.join(dir, 'lolpop.yaml'), 'config: {}\n');
    const b = bundle(docker(), { greeting: 'from deploy', sleep: 0 });
    const marker = path.join(dir, 'marker.json');
    const out = execFileSync('python3', ['-I', '-c', CONTAINER_TASK_PY], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        LOLPOP_DEPLOY_SPEC: String(b.release.find((f) => f.path === 'spec.json')!.content),
        LOLPOP_DEPLOY_LAUNCHER: LAUNCHER_PY,
        LOLPOP_DEPLOY_CONF: JSON.stringify({ greeting: 'hi {{ there }} "quoted"', marker }),
        LOLPOP_DEPLOY_RUN_ID: 'manual__1',
      },
    });
    expect(out).toContain('tiny runner: hi {{ there }} "quoted" from ');
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({ greeting: 'hi {{ there }} "quoted"', run_id: 'manual__1' });
    // A conf that is not an object is refused with a message, not a traceback.
    expect(() =>
      execFileSync('python3', ['-I', '-c', CONTAINER_TASK_PY], {
        cwd: dir,
        stdio: 'pipe',
        env: { PATH: process.env.PATH, LOLPOP_DEPLOY_SPEC: '{"workdir": ".", "parameters": {}}', LOLPOP_DEPLOY_LAUNCHER: LAUNCHER_PY, LOLPOP_DEPLOY_CONF: '[1]' },
      }),
    ).toThrow(/the run's conf must be a JSON object, got \[1\]/);
  });
});
