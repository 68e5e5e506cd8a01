import { podResources } from '../../kubernetes/pod-resources.js';
import { dockerOperatorResources, type DockerOperatorResources } from './docker-resources.js';
import { GENERATED_HEADER } from '../../packaging/generated.js';
import { pyLiteral, pyString } from '../../packaging/python.js';
import { FINGERPRINT_TAG } from './names.js';
import type { SecretVariable } from './secret-variables.js';
import type { AirflowTask } from './task.js';

/** What the generated DAG file says. */
export interface DagFileOptions {
  dagId: string;
  deploymentName: string;
  /** Content hash of the release the DAG runs; also a tag, so deploy can tell this version was parsed. */
  fingerprint: string;
  /** The task's id: the lolpop entrypoint (build_all) or the flow function. */
  taskId: string;
  /** The task kind (airflowTask): bash with the runner's interpreter (undefined: the worker's own), or docker with the image. */
  task: AirflowTask;
  description: string;
  tags: string[];
  /** Secret parameters (none when absent): the task's environment reads each from its Airflow Variable when the run starts. */
  secrets?: SecretVariable[];
}

/** The folder, next to the DAG file, that holds each release (ignored by the dag-processor). */
export const RELEASES_DIR = 'releases';

/**
 * The DAG file: one task that runs the release's runner, a BashOperator on the worker or
 * a DockerOperator in the package's image. Run parameters travel as the run's `conf`,
 * serialised into an environment variable by Airflow's own template
 * (`dag_run.conf | tojson`), so quotes and spaces in values reach the runner intact.
 */
export function renderDagFile(options: DagFileOptions): string {
  const tags = ['lolpop', `${FINGERPRINT_TAG}${options.fingerprint}`, ...options.tags];
  const task = options.task;
  // deploy.resources as the operator's own arguments, or its subclass's (docker-resources.ts).
  const limits = task.kind === 'docker' ? dockerOperatorResources(task.resources) : undefined;
  const imports = { bash: BASH_IMPORTS, docker: DOCKER_IMPORTS, kubernetes: KUBERNETES_IMPORTS }[task.kind] + (limits?.imports ?? '');
  const head = task.kind === 'bash' ? `PYTHON = ${task.python === undefined ? 'sys.executable' : pyString(task.python)}\n` : `IMAGE = ${pyString(task.image)}\n`;
  const operator = task.kind === 'bash' ? bashTask(options) : task.kind === 'docker' ? dockerTask(options, task, limits!) : kubernetesTask(options, task);
  return `${GENERATED_HEADER}
# lolpop-deploy: the Airflow DAG of deployment ${JSON.stringify(options.deploymentName)}.
${imports}
FINGERPRINT = ${pyString(options.fingerprint)}
RELEASE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ${pyString(RELEASES_DIR)}, FINGERPRINT)
${head}${VERBATIM}${task.kind === 'bash' ? '' : READ_RELEASE_FILE}${limits?.definitions ?? ''}
with DAG(
    dag_id=${pyString(options.dagId)},
    description=${pyString(options.description)},
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=${pyLiteral(tags, 'dag_tags')},
    default_args={"retries": 0},
):
${operator}`;
}

// One DAG file for Airflow 3 and 2.10: each imports what it has (3 moved DAG to the task
// SDK and BashOperator to the standard provider, which 2.10 does not ship).
const BASH_IMPORTS = `import json
import os
import shlex
import sys

import pendulum

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.x
    from airflow.models.dag import DAG
    from airflow.operators.bash import BashOperator
`;

const DOCKER_IMPORTS = `import json
import os

import pendulum
from airflow.providers.docker.operators.docker import DockerOperator

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.x
    from airflow.models.dag import DAG
`;

const KUBERNETES_IMPORTS = `import json
import os

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from kubernetes.client import models as k8s

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.x
    from airflow.models.dag import DAG
`;

/**
 * Airflow renders every templated field (bash_command, env, environment, …) as Jinja, and
 * loads one ending in .sh or .bash as a template file. A value that is data, not a
 * template (the deployment's name, the python setting, the release's path), goes in as a
 * Jinja string literal: `{{ "…" }}` renders to exactly the value, whatever braces it holds.
 * JSON's escapes are a Jinja string literal's; non-ASCII is left raw, as Jinja reads it.
 */
const VERBATIM = `

def verbatim(text):
    """A template that renders to text itself."""
    return "{{ " + json.dumps(text, ensure_ascii=False) + " }}"
`;

const READ_RELEASE_FILE = `
def release_file(name):
    with open(os.path.join(RELEASE, name), encoding="utf-8") as f:
        return f.read()

`;

/**
 * A BashOperator rather than a PythonOperator: the runner's Python (lolpop 0.2.0 needs
 * 3.11 and its own dependencies) need not be Airflow's, and its output streams into the
 * task log line by line.
 */
function bashTask(options: DagFileOptions): string {
  const secrets = Object.entries(secretEnvironment(options.secrets)).map(([env, template]) => `            ${pyString(env)}: ${pyString(template)},\n`);
  return `    BashOperator(
        task_id=${pyString(options.taskId)},
        bash_command=verbatim(shlex.join([PYTHON, os.path.join(RELEASE, "run_task.py")])),
        env={
            "LOLPOP_DEPLOY_CONF": "{{ dag_run.conf | tojson }}",
            "LOLPOP_DEPLOY_RUN_ID": "{{ run_id }}",
            "LOLPOP_DEPLOY_DEPLOYMENT": verbatim(${pyString(options.deploymentName)}),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
${secrets.join('')}        },
        append_env=True,
        cwd=RELEASE,
    )
`;
}

/**
 * The image's python runs container_task.py (read from the release when the DAG is
 * parsed), which hands the spec to the launcher: the runner, no Prefect. The spec and the
 * launcher go in private_environment, which Airflow does not render as a template, so a
 * parameter containing "{{" reaches the runner as written; the conf, run id and the
 * user's own variables (documented as templates) go in environment, which it renders,
 * and the deployment's name there too, as a verbatim template.
 */
function dockerTask(options: DagFileOptions, task: Extract<AirflowTask, { kind: 'docker' }>, limits: DockerOperatorResources): string {
  const settings = task.docker;
  const environment = containerEnvironment(options, settings.environment, 'docker');
  const optional: Array<[string, string | undefined]> = [
    ['docker_url', settings.docker_url],
    ['network_mode', settings.network_mode],
    ['docker_conn_id', settings.docker_conn_id],
  ];
  const privateEnvironment = `{
            "LOLPOP_DEPLOY_SPEC": release_file("spec.json"),
            "LOLPOP_DEPLOY_LAUNCHER": release_file("launcher.py"),
        }`;
  const mounts = settings.mounts.map((m) => ({ target: m.target, ...(m.source === undefined ? {} : { source: m.source }), type: m.type, read_only: m.read_only }));
  const args = [
    `task_id=${pyString(options.taskId)}`,
    'image=IMAGE',
    'command=["python", "-c", release_file("container_task.py")]',
    `environment=${pyDict(environment, 8)}`,
    `private_environment=${privateEnvironment}`,
    ...optional.filter(([, value]) => value !== undefined).map(([key, value]) => `${key}=${pyString(value!)}`),
    `auto_remove=${pyString(settings.auto_remove)}`,
    `force_pull=${settings.force_pull ? 'True' : 'False'}`,
    `mount_tmp_dir=${settings.mount_tmp_dir ? 'True' : 'False'}`,
    `mounts=${pyLiteral(mounts, 'docker.mounts')}`,
    ...limits.args,
  ];
  return `    ${limits.operator}(\n${args.map((a) => `        ${a},\n`).join('')}    )\n`;
}

/**
 * A KubernetesPodOperator in the package's image, as the DockerOperator: the same command
 * and variables. It has no private_environment: the spec and the launcher go in env_vars
 * as verbatim templates, so Airflow's rendering gives back exactly the file. The pod is
 * named after the deployment (the operator adds a random suffix per try) and labelled as
 * every object this tool makes; deploy.resources become the operator's own arguments.
 * The pod's events are logged when it fails, so the task log (which the error quotes)
 * says why a pod never started: an image that cannot be pulled, no node that fits.
 */
function kubernetesTask(options: DagFileOptions, task: Extract<AirflowTask, { kind: 'kubernetes' }>): string {
  const k = task.kubernetes;
  const environment = {
    ...containerEnvironment(options, k.environment, 'kubernetes'),
    LOLPOP_DEPLOY_SPEC: 'verbatim(release_file("spec.json"))',
    LOLPOP_DEPLOY_LAUNCHER: 'verbatim(release_file("launcher.py"))',
  };
  const envVars = Object.entries(environment).map(([name, value]) => `            k8s.V1EnvVar(name=${pyString(name)}, value=${value}),\n`);
  const resources = task.resources;
  const pod = podResources(resources);
  const requirements = pod.container.resources;
  const seconds = Math.ceil(k.startup_timeout / 1000);
  const args: Array<string | false | undefined> = [
    `task_id=${pyString(options.taskId)}`,
    `name=${pyString(task.podName)}`,
    `namespace=${pyString(k.namespace)}`,
    'image=IMAGE',
    'cmds=["python", "-c", release_file("container_task.py")]',
    `env_vars=[\n${envVars.join('')}        ]`,
    `labels=${pyLiteral({ 'app.kubernetes.io/managed-by': 'lolpop-deploy', 'lolpop-deploy/deployment': task.podName }, 'labels')}`,
    k.kubernetes_conn_id !== undefined && `kubernetes_conn_id=${pyString(k.kubernetes_conn_id)}`,
    k.in_cluster !== undefined && `in_cluster=${k.in_cluster ? 'True' : 'False'}`,
    k.config_file !== undefined && `config_file=${pyString(k.config_file)}`,
    k.cluster_context !== undefined && `cluster_context=${pyString(k.cluster_context)}`,
    k.image_pull_policy !== undefined && `image_pull_policy=${pyString(k.image_pull_policy)}`,
    k.image_pull_secrets.length > 0 && `image_pull_secrets=[${k.image_pull_secrets.map((n) => `k8s.V1LocalObjectReference(name=${pyString(n)})`).join(', ')}]`,
    requirements &&
      `container_resources=k8s.V1ResourceRequirements(${[
        requirements.requests && `requests=${pyLiteral(requirements.requests, 'deploy.resources')}`,
        requirements.limits && `limits=${pyLiteral(requirements.limits, 'deploy.resources')}`,
      ]
        .filter(Boolean)
        .join(', ')})`,
    resources?.node_selector && `node_selector=${pyLiteral(resources.node_selector, 'deploy.resources.node_selector')}`,
    // V1Toleration's own (snake_case) keyword arguments, which the operator builds from each dict.
    resources?.tolerations && `tolerations=${pyLiteral(resources.tolerations, 'deploy.resources.tolerations')}`,
    resources?.service_account && `service_account_name=${pyString(resources.service_account)}`,
    resources?.env_from_secrets &&
      `secrets=[${Object.entries(resources.env_from_secrets)
        .map(([name, ref]) => `Secret("env", ${pyString(name)}, ${pyString(ref.secret)}, ${pyString(ref.key)})`)
        .join(', ')}]`,
    // Scheduling and starting share the one budget: an unschedulable pod fails the task, it does not hang it.
    `schedule_timeout_seconds=${seconds}`,
    `startup_timeout_seconds=${seconds}`,
    'get_logs=True',
    'log_events_on_failure=True',
    // The pod spec holds the whole launcher and the rendered variables: it would bury the log tail the error quotes.
    'log_pod_spec_on_failure=False',
    `on_finish_action=${pyString(k.on_finish_action)}`,
  ];
  return `    KubernetesPodOperator(\n${args.filter((a): a is string => typeof a === 'string').map((a) => `        ${a},\n`).join('')}    )\n`;
}

/**
 * The container's variables, as Python expressions: the run's conf and id (templates the
 * worker renders), the deployment's name (verbatim), the user's own (templates, as
 * documented) and the secret parameters' Variables.
 */
function containerEnvironment(options: DagFileOptions, user: Record<string, string>, key: 'docker' | 'kubernetes'): Record<string, string> {
  return {
    LOLPOP_DEPLOY_CONF: pyString('{{ dag_run.conf | tojson }}'),
    LOLPOP_DEPLOY_RUN_ID: pyString('{{ run_id }}'),
    LOLPOP_DEPLOY_DEPLOYMENT: `verbatim(${pyString(options.deploymentName)})`,
    PYTHONUNBUFFERED: pyString('1'),
    PYTHONDONTWRITEBYTECODE: pyString('1'),
    ...Object.fromEntries(Object.entries(user).map(([name, value]) => [name, pyLiteral(value, `${key}.environment.${name}`)])),
    ...Object.fromEntries(Object.entries(secretEnvironment(options.secrets)).map(([name, template]) => [name, pyString(template)])),
  };
}

/**
 * The task's environment variables that carry secret parameters: Airflow renders each from
 * its Variable when the task runs (a key with "secret" in it is masked in logs and rendered
 * fields), so only the keys are in the DAG file. The keys are plain names (secretVariableKey).
 */
function secretEnvironment(secrets: SecretVariable[] = []): Record<string, string> {
  return Object.fromEntries(secrets.map(({ env, key }) => [env, `{{ var.value.get('${key}') }}`]));
}

/** A dict of Python expressions by name, one entry a line, indented to sit inside a call at `indent` spaces. */
function pyDict(record: Record<string, string>, indent: number): string {
  const pad = ' '.repeat(indent);
  const entries = Object.entries(record).map(([k, v]) => `${pad}    ${pyString(k)}: ${v},\n`);
  return `{\n${entries.join('')}${pad}}`;
}

/**
 * The release's task script (standard library only): the launch spec with the run's
 * conf merged over the deployment's parameters and the workflow folder made absolute,
 * handed to lolpop-deploy's launcher (the one LocalOrchestrator runs).
 */
export const RUN_TASK_PY = `${GENERATED_HEADER}
"""lolpop-deploy: runs one release of a deployment with the run's parameters."""
import json
import os
import runpy
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "spec.json"), encoding="utf-8") as f:
    spec = json.load(f)
spec["workdir"] = os.path.join(here, spec["workdir"])
# The workflow folder is importable, as when the image runs prefect_files/run.py (the launcher adds workdir itself).
for entry in reversed(spec.get("python_path") or []):
    sys.path.insert(0, os.path.join(spec["workdir"], entry))
conf = json.loads(os.environ.get("LOLPOP_DEPLOY_CONF") or "{}") or {}
if not isinstance(conf, dict):
    raise SystemExit("lolpop-deploy: the run's conf must be a JSON object, got %r" % (conf,))
spec["parameters"] = dict(spec.get("parameters") or {}, **conf)
fd, spec_file = tempfile.mkstemp(prefix="lolpop-spec-", suffix=".json")
with os.fdopen(fd, "w", encoding="utf-8") as f:
    json.dump(spec, f)
launcher = os.path.join(here, "launcher.py")
sys.argv = [launcher, spec_file]
try:
    runpy.run_path(launcher, run_name="__main__")
finally:
    os.unlink(spec_file)
`;
