import { GENERATED_HEADER } from './generated.js';

/**
 * Where a container task finds the run's parameters (a JSON object): `argv`, its first
 * argument (Kubeflow Pipelines passes the run's params_json as a placeholder in args);
 * `env`, the LOLPOP_DEPLOY_CONF variable (Airflow's DockerOperator renders the run's
 * conf into the environment).
 */
export type RunParametersSource = 'argv' | 'env';

const READ_PARAMETERS: Record<RunParametersSource, { read: string; what: string }> = {
  argv: { read: 'sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "null"', what: "the run's params_json" },
  env: { read: 'os.environ.get("LOLPOP_DEPLOY_CONF") or "null"', what: "the run's conf" },
};

/**
 * What an orchestrator's container runs, as `python -c` (standard library only): the
 * launch spec from LOLPOP_DEPLOY_SPEC with the run's parameters merged over the
 * deployment's and the workflow folder taken relative to the image's WORKDIR, handed to
 * lolpop-deploy's launcher (LOLPOP_DEPLOY_LAUNCHER), which builds
 * lolpop_class(conf=config_file) and calls its entrypoint: no Prefect, and not the
 * image's CMD (prefect_files/run.py wraps the runner in a Prefect flow and takes no
 * parameters).
 *
 * The text has no `{` or `}` at all: Airflow renders DockerOperator's `command` as a
 * Jinja template, so nothing in it is ever taken for template syntax.
 */
export function containerTaskPy(source: RunParametersSource): string {
  const { read, what } = READ_PARAMETERS[source];
  return `${GENERATED_HEADER}
"""lolpop-deploy: runs the deployment's runner inside its image with ${what}."""
import json
import os
import sys
import tempfile

spec = json.loads(os.environ["LOLPOP_DEPLOY_SPEC"])
spec["workdir"] = os.path.join(os.getcwd(), spec["workdir"])
# The workflow folder is importable, as when the image runs its CMD (prefect_files/run.py).
for entry in reversed(spec.get("python_path") or list()):
    sys.path.insert(0, os.path.join(spec["workdir"], entry))
params = json.loads(${read})
if params is None:
    params = dict()
if not isinstance(params, dict):
    raise SystemExit("lolpop-deploy: ${what} must be a JSON object, got %r" % (params,))
spec["parameters"] = dict(spec.get("parameters") or dict(), **params)
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
}
