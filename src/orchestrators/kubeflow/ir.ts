import { stringify } from 'yaml';
import type { ResolvedDeployment } from '../../deployment.js';
import { ConfigError } from '../../errors.js';
import { GENERATED_HEADER } from '../../packaging/generated.js';
import { LAUNCHER_PY, launchSpec } from '../../packaging/launcher.js';
import type { KubeflowKwargs } from './kwargs.js';
import type { KubeflowTarget } from './names.js';
import { containerResources, kubernetesExecutorConfig } from './resources.js';

/** The one pipeline parameter: the run's parameters as a JSON object, merged over deploy.parameters. */
export const PARAMS_PARAMETER = 'params_json';
/** The one task of the pipeline (its component and executor are named after it, as kfp names them). */
export const TASK = 'lolpop-run';
const COMPONENT = `comp-${TASK}`;
const EXECUTOR = `exec-${TASK}`;
/** What kfp 2.x writes and the KFP API server requires ("KFP only supports schema version 2.1.0"). */
const SCHEMA_VERSION = '2.1.0';
/** The SDK whose compiler output this IR matches field for field (the golden, test/kubeflow). */
export const SDK_VERSION = 'kfp-2.17.3';

/**
 * What the container runs, as `python -c` (standard library only): the launch spec
 * (LOLPOP_DEPLOY_SPEC) with the run's parameters (argv[1], KFP's placeholder) merged over
 * the deployment's and the workflow folder taken relative to the image's WORKDIR, handed
 * to lolpop-deploy's launcher (LOLPOP_DEPLOY_LAUNCHER), which builds
 * lolpop_class(conf=config_file) and calls its entrypoint: no Prefect.
 */
export const KFP_TASK_PY = `${GENERATED_HEADER}
"""lolpop-deploy: runs the deployment's runner inside its image with the KFP run's parameters."""
import json
import os
import sys
import tempfile

spec = json.loads(os.environ["LOLPOP_DEPLOY_SPEC"])
spec["workdir"] = os.path.join(os.getcwd(), spec["workdir"])
params = json.loads(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "{}")
if not isinstance(params, dict):
    raise SystemExit("lolpop-deploy: the run's params_json must be a JSON object, got %r" % (params,))
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

/** The pipeline as KFP takes it: the PipelineSpec, the kubernetes PlatformSpec when one is needed, and the file text. */
export interface PipelineIr {
  pipelineSpec: Record<string, unknown>;
  platformSpec?: Record<string, unknown>;
  /** The YAML package writes for review and deploy uploads: the PipelineSpec, then the PlatformSpec as a second document. */
  text: string;
}

export type KubeflowDeployment = ResolvedDeployment<KubeflowKwargs, KubeflowTarget>;

/**
 * The pipeline IR for a deployment, as kfp 2.x compiles the equivalent one-task DSL
 * pipeline (a container component running the runner in the package's image): one
 * STRING parameter carrying the run parameters, resources from deploy.resources, env
 * from deploy.env, caching off unless deploy.enable_caching.
 */
export function buildPipelineIr(d: KubeflowDeployment): PipelineIr {
  if (d.package.package_type !== 'docker') {
    throw new ConfigError(
      "orchestrator.deployment.package.package_type is none, but Kubeflow Pipelines runs each step in a container image: use package_type: docker (the default)",
    );
  }
  if (Object.keys(d.secretParameters).length > 0) {
    throw new ConfigError(
      'run.secret_parameters is not supported by KubeflowPipelinesOrchestrator (a KFP run stores its parameters in clear): ' +
        'put the secret in a Kubernetes Secret and read it through deploy.resources.env_from_secrets',
    );
  }
  const deploy = d.deploy;
  const spec = launchSpec(d.package, d.entrypoint, '.', deploy.parameters ?? {}, false);
  const displayName = spec.runner ? spec.runner.entrypoint : spec.flow!.function;
  const env = [
    { name: 'LOLPOP_DEPLOY_SPEC', value: JSON.stringify(spec) },
    { name: 'LOLPOP_DEPLOY_LAUNCHER', value: LAUNCHER_PY },
    { name: 'LOLPOP_DEPLOY_DEPLOYMENT', value: d.name },
    { name: 'PYTHONUNBUFFERED', value: '1' },
    ...Object.entries(deploy.env ?? {}).map(([name, value]) => ({ name, value })),
    // An empty value is the proto default, which kfp leaves out.
  ].map(({ name, value }) => (value === '' ? { name } : { name, value }));
  const resources = containerResources(deploy.resources);
  const description = deploy.description ?? `lolpop-deploy: ${d.name} (${d.entrypoint})`;
  const pipelineSpec: Record<string, unknown> = {
    components: {
      [COMPONENT]: {
        executorLabel: EXECUTOR,
        inputDefinitions: { parameters: { [PARAMS_PARAMETER]: { parameterType: 'STRING' } } },
      },
    },
    deploymentSpec: {
      executors: {
        [EXECUTOR]: {
          container: {
            args: [`{{$.inputs.parameters['${PARAMS_PARAMETER}']}}`],
            command: ['python', '-c', KFP_TASK_PY],
            env,
            image: d.image,
            ...(resources ? { resources } : {}),
          },
        },
      },
    },
    pipelineInfo: { description, name: d.target.pipeline },
    root: {
      dag: {
        tasks: {
          [TASK]: {
            // kfp writes `{}` for caching off: enableCache false is the proto default.
            cachingOptions: deploy.enable_caching ? { enableCache: true } : {},
            componentRef: { name: COMPONENT },
            inputs: { parameters: { [PARAMS_PARAMETER]: { componentInputParameter: PARAMS_PARAMETER } } },
            taskInfo: { name: displayName },
          },
        },
      },
      inputDefinitions: {
        parameters: { [PARAMS_PARAMETER]: { defaultValue: '{}', isOptional: true, parameterType: 'STRING' } },
      },
    },
    schemaVersion: SCHEMA_VERSION,
    sdkVersion: SDK_VERSION,
  };
  const executorConfig = kubernetesExecutorConfig(deploy.resources);
  const platformSpec = executorConfig ? { platforms: { kubernetes: { deploymentSpec: { executors: { [EXECUTOR]: executorConfig } } } } } : undefined;
  const header = `${GENERATED_HEADER}\n# Kubeflow Pipelines IR (PipelineSpec ${SCHEMA_VERSION}) of deployment ${JSON.stringify(d.name)}: deploy uploads this file.\n`;
  const docs = [pipelineSpec, ...(platformSpec ? [platformSpec] : [])].map((doc) => stringify(doc, { sortMapEntries: true, lineWidth: 0 }));
  return { pipelineSpec, ...(platformSpec ? { platformSpec } : {}), text: header + docs.join('---\n') };
}
