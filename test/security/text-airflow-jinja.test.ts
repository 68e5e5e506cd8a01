import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDagFile, type DagFileOptions } from '../../src/orchestrators/airflow/dag-file.js';
import { DockerTaskConfig } from '../../src/orchestrators/airflow/docker-config.js';
import { tempDir } from '../helpers/services.js';

// Issue 19: a deployment name or `python` setting went into Airflow fields that Airflow
// renders as Jinja. The generated DAG file is executed by Python with Airflow's operators
// replaced by recorders, and each templated field is rendered the way Airflow renders it
// (jinja2's sandbox, StrictUndefined, template files for .sh/.bash, dicts and lists
// recursively), with the real jinja2. Nothing the user did not write as a template may be
// evaluated: a name holding `{{ var.value.token }}` must not become the token.
const RENDER_AS_AIRFLOW = String.raw`
import json, sys, types
import jinja2
from jinja2.sandbox import SandboxedEnvironment

captured = []
class Operator:
    def __init__(self, **kwargs):
        captured.append((type(self).__name__, kwargs))
class BashOperator(Operator):
    template_fields = ("bash_command", "env", "cwd")
    template_ext = (".sh", ".bash")
class DockerOperator(Operator):
    template_fields = ("image", "command", "environment", "env_file", "container_name")
    template_ext = (".sh", ".bash", ".env")
class DAG:
    def __init__(self, **kwargs): pass
    def __enter__(self): return self
    def __exit__(self, *a): return False

def module(name, **attrs):
    m = types.ModuleType(name); m.__dict__.update(attrs); sys.modules[name] = m
for name in ["airflow", "airflow.providers", "airflow.providers.standard", "airflow.providers.standard.operators", "airflow.providers.docker", "airflow.providers.docker.operators", "airflow.models"]:
    module(name)
module("pendulum", datetime=lambda *a, **k: None)
module("airflow.sdk", DAG=DAG)
module("airflow.providers.standard.operators.bash", BashOperator=BashOperator)
module("airflow.providers.docker.operators.docker", DockerOperator=DockerOperator)

dag_file = sys.argv[1]
exec(compile(open(dag_file, encoding="utf-8").read(), dag_file, "exec"), {"__file__": dag_file, "__name__": "dag"})

env = SandboxedEnvironment(loader=jinja2.FileSystemLoader(sys.argv[2]), undefined=jinja2.StrictUndefined)
context = {"run_id": "manual__1", "dag_run": {"conf": {"lr": 0.1}}, "var": {"value": {"token": "AIRFLOW-VARIABLE-SECRET"}}}
def render(value, ext):
    if isinstance(value, str):
        template = env.get_template(value) if value.endswith(ext) else env.from_string(value)
        return template.render(context)
    if isinstance(value, dict):
        return {k: render(v, ext) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v, ext) for v in value]
    return value
kind, kwargs = captured[0]
cls = {"BashOperator": BashOperator, "DockerOperator": DockerOperator}[kind]
out = {}
for field in cls.template_fields:
    if field in kwargs:
        try:
            out[field] = render(kwargs[field], cls.template_ext)
        except Exception as error:
            out[field] = "refused by Jinja: %s: %s" % (type(error).__name__, error)
print(json.dumps(out))
`;

const HOSTILE_NAME = 'q{{ var.value.token }}{% if 1 %}-if{% endif %}{# gone #}{% raw %}x{% endraw %}"\'\\ é 😀 run.sh';
const HOSTILE_PYTHON = '/opt/py{{ 7 * 7 }}/{% raw %}bin{% endraw %}/python3 "x\' é.sh';

function renderedFields(options: DagFileOptions): Record<string, unknown> {
  const dir = tempDir('text-jinja');
  const dags = path.join(dir, 'dags');
  mkdirSync(path.join(dags, 'releases', options.fingerprint), { recursive: true });
  for (const name of ['spec.json', 'launcher.py', 'container_task.py']) writeFileSync(path.join(dags, 'releases', options.fingerprint, name), `# ${name}\n`);
  const file = path.join(dags, 'q.py');
  writeFileSync(file, renderDagFile(options));
  const script = path.join(dir, 'render.py');
  writeFileSync(script, RENDER_AS_AIRFLOW);
  return JSON.parse(execFileSync('python3', [script, file, dags], { encoding: 'utf8' })) as Record<string, unknown>;
}

const base = { dagId: 'q', fingerprint: '0123abcd0123abcd', taskId: 'build_all', description: 'd', tags: [] as string[] };

describe('values that are data reach Airflow fields rendered as Jinja literally', { timeout: 30_000 }, () => {
  it('a deployment name and a python setting in the BashOperator render as written; the conf is still a template', () => {
    const fields = renderedFields({ ...base, deploymentName: HOSTILE_NAME, task: { kind: 'bash', python: HOSTILE_PYTHON } });
    const env = fields.env as Record<string, string>;
    expect(env.LOLPOP_DEPLOY_DEPLOYMENT).toBe(HOSTILE_NAME);
    expect(fields.bash_command).toMatch(/^'\/opt\/py\{\{ 7 \* 7 \}\}\/\{% raw %\}bin\{% endraw %\}\/python3 "x'"'"' é\.sh' \S+\/releases\/0123abcd0123abcd\/run_task\.py$/);
    expect(env.LOLPOP_DEPLOY_CONF).toBe('{"lr": 0.1}');
    expect(env.LOLPOP_DEPLOY_RUN_ID).toBe('manual__1');
  });

  it('a deployment name in the DockerOperator environment renders as written; the user\'s own templates still render', () => {
    const docker = DockerTaskConfig.parse({ environment: { TOKEN: '{{ var.value.token }}' } });
    const fields = renderedFields({ ...base, deploymentName: HOSTILE_NAME, task: { kind: 'docker', image: 'registry/q:1', docker } });
    const environment = fields.environment as Record<string, string>;
    expect(environment.LOLPOP_DEPLOY_DEPLOYMENT).toBe(HOSTILE_NAME);
    expect(environment.TOKEN).toBe('AIRFLOW-VARIABLE-SECRET');
    expect(environment.LOLPOP_DEPLOY_CONF).toBe('{"lr": 0.1}');
  });
});
