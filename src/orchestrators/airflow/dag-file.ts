import { GENERATED_HEADER } from '../../packaging/generated.js';
import { pyLiteral, pyString } from '../../packaging/python.js';
import { FINGERPRINT_TAG } from './names.js';

/** What the generated DAG file says. */
export interface DagFileOptions {
  dagId: string;
  deploymentName: string;
  /** Content hash of the release the DAG runs; also a tag, so deploy can tell this version was parsed. */
  fingerprint: string;
  /** The task's id: the lolpop entrypoint (build_all) or the flow function. */
  taskId: string;
  /** Interpreter for the runner on the worker; undefined: the worker's own (sys.executable). */
  python?: string;
  description: string;
  tags: string[];
}

/** The folder, next to the DAG file, that holds each release (ignored by the dag-processor). */
export const RELEASES_DIR = 'releases';

/**
 * The DAG file: one BashOperator task that runs the release's run_task.py with the
 * chosen interpreter. Run parameters travel as the run's `conf`, serialised into an
 * environment variable by Airflow's own template (`dag_run.conf | tojson`), so quotes and
 * spaces in values reach the runner intact. A BashOperator rather than a PythonOperator:
 * the runner's Python (lolpop 0.2.0 needs 3.11 and its own dependencies) need not be
 * Airflow's, and its output streams into the task log line by line.
 */
export function renderDagFile(options: DagFileOptions): string {
  const tags = ['lolpop', `${FINGERPRINT_TAG}${options.fingerprint}`, ...options.tags];
  const python = options.python === undefined ? 'sys.executable' : pyString(options.python);
  return `${GENERATED_HEADER}
# lolpop-deploy: the Airflow DAG of deployment ${JSON.stringify(options.deploymentName)}.
import os
import shlex
import sys

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

FINGERPRINT = ${pyString(options.fingerprint)}
RELEASE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ${pyString(RELEASES_DIR)}, FINGERPRINT)
PYTHON = ${python}

with DAG(
    dag_id=${pyString(options.dagId)},
    description=${pyString(options.description)},
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=${pyLiteral(tags, 'dag_tags')},
    default_args={"retries": 0},
):
    BashOperator(
        task_id=${pyString(options.taskId)},
        bash_command=shlex.join([PYTHON, os.path.join(RELEASE, "run_task.py")]),
        env={
            "LOLPOP_DEPLOY_CONF": "{{ dag_run.conf | tojson }}",
            "LOLPOP_DEPLOY_RUN_ID": "{{ run_id }}",
            "LOLPOP_DEPLOY_DEPLOYMENT": ${pyString(options.deploymentName)},
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        append_env=True,
        cwd=RELEASE,
    )
`;
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
