import type { ResolvedDeployment } from '../../deployment.js';
import { ConfigError } from '../../errors.js';
import { GENERATED_HEADER } from '../../packaging/generated.js';
import type { AirflowConfig } from './config.js';
import { DockerTaskConfig } from './docker-config.js';

/**
 * What the DAG's one task is. `bash`: a BashOperator running the runner with a Python on
 * the Airflow worker (the release carries the workflow's files). `docker`: a
 * DockerOperator running the runner inside the package's image (the image carries them).
 */
export type AirflowTask = { kind: 'bash'; python?: string } | { kind: 'docker'; image: string; docker: DockerTaskConfig };

/**
 * The one place that decides the task kind, for package (build or not), plan and deploy
 * (the DAG). The docker kind runs the image package builds (the resolved deployment's).
 */
export function airflowTask(config: AirflowConfig, env: NodeJS.ProcessEnv, deployment: Pick<ResolvedDeployment, 'package' | 'image'>): AirflowTask {
  if (config.task !== 'docker') return { kind: 'bash', python: config.python ?? (env.AIRFLOW_LOLPOP_PYTHON || undefined) };
  if (deployment.package.package_type !== 'docker') {
    throw new ConfigError(
      "orchestrator.config.task is docker, but orchestrator.deployment.package.package_type is none: the task runs the package's image, " +
        'so package must build it (package_type: docker), or use task: bash',
    );
  }
  return { kind: 'docker', image: deployment.image, docker: config.docker ?? DockerTaskConfig.parse({}) };
}

/**
 * What the container runs, as `python -c` (standard library only): the launch spec from
 * LOLPOP_DEPLOY_SPEC with the run's conf merged over the deployment's parameters and the
 * workflow folder taken relative to the image's WORKDIR, handed to lolpop-deploy's
 * launcher (LOLPOP_DEPLOY_LAUNCHER), which builds lolpop_class(conf=config_file) and
 * calls its entrypoint: no Prefect, and not the image's CMD (prefect_files/run.py wraps
 * the runner in a Prefect flow and takes no parameters).
 *
 * Airflow renders DockerOperator's `command` as a Jinja template: this text has no
 * `{` or `}` at all, so nothing in it is ever taken for template syntax.
 */
export const CONTAINER_TASK_PY = `${GENERATED_HEADER}
"""lolpop-deploy: runs the deployment's runner inside its image with the run's parameters."""
import json
import os
import sys
import tempfile

spec = json.loads(os.environ["LOLPOP_DEPLOY_SPEC"])
spec["workdir"] = os.path.join(os.getcwd(), spec["workdir"])
# The workflow folder is importable, as when the image runs its CMD (prefect_files/run.py).
for entry in reversed(spec.get("python_path") or list()):
    sys.path.insert(0, os.path.join(spec["workdir"], entry))
conf = json.loads(os.environ.get("LOLPOP_DEPLOY_CONF") or "null") or dict()
if not isinstance(conf, dict):
    raise SystemExit("lolpop-deploy: the run's conf must be a JSON object, got %r" % (conf,))
spec["parameters"] = dict(spec.get("parameters") or dict(), **conf)
fd, spec_file = tempfile.mkstemp(prefix="lolpop-spec-", suffix=".json")
with os.fdopen(fd, "w", encoding="utf-8") as f:
    json.dump(spec, f)
sys.argv = ["lolpop_launcher.py", spec_file]
launcher = compile(os.environ["LOLPOP_DEPLOY_LAUNCHER"], "lolpop_launcher.py", "exec")
try:
    exec(launcher, dict(__name__="__main__", __file__="lolpop_launcher.py"))
finally:
    os.unlink(spec_file)
`;
