import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPipelineIr, KFP_TASK_PY } from '../../src/orchestrators/kubeflow/ir.js';
import { service, tempDir } from '../helpers/services.js';
import { kfpDeployment, kfpPython, ROOT, writeJson, yamlDocs } from './helpers.js';

const PYTHON = service('LOLPOP_TEST_KFP_PYTHON');
const SCRIPTS = path.join(ROOT, 'test/kubeflow/kfp');
const PKG = { lolpop_class: 'ChurnRunner', lolpop_module: 'churn_runner', config_file: 'churn.yaml', copy_files: ['churn_runner.py'] };
const FULL_RESOURCES = {
  cpu: { request: '500m', limit: '2' },
  memory: { request: '1536Mi', limit: '4Gi' },
  gpu: { count: 2, resource: 'nvidia.com/gpu' },
  node_selector: { 'cloud.google.com/gke-nodepool': 'gpu-pool', team: 'ml' },
  tolerations: [
    { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'spot', operator: 'Equal', value: 'true', effect: 'NoExecute', toleration_seconds: 300 },
  ],
  service_account: 'pipeline-runner',
  env_from_secrets: { DB_PASSWORD: { secret: 'churn-db', key: 'password' }, DB_USER: { secret: 'churn-db', key: 'user' }, API_KEY: { secret: 'api', key: 'key' } },
};

/** The deployments whose IR is checked: bare, every resource key, caching on with env, the user's own flow, a Vertex-style accelerator. */
const CASES = {
  bare: kfpDeployment('churn', PKG),
  resources: kfpDeployment('Churn Model_v2', PKG, { resources: FULL_RESOURCES, parameters: { threshold: 0.5 }, description: 'churn: train and score' }),
  cached: kfpDeployment('churn-cached', PKG, { enable_caching: true, env: { MLFLOW_TRACKING_URI: 'http://mlflow:5000', EMPTY: '' }, resources: { cpu: '1', memory: '512M' } }),
  flow: kfpDeployment('own-flow', { flow_entrypoint: 'flows/train.py:train', copy_files: ['flows/train.py'] }, { resources: { gpu: { count: 1, accelerator: 'NVIDIA_TESLA_T4' }, memory: { limit: '3G' } } }),
};

describe.skipIf(!PYTHON)('our IR and the real kfp SDK 2.17.3 (scripts/kfp-venv.sh)', () => {
  const dir = tempDir('kfp-ir');
  const files = Object.fromEntries(
    Object.entries(CASES).map(([name, d]) => {
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(file, buildPipelineIr(d).text);
      return [name, file];
    }),
  );

  it('parses every generated IR strictly (PipelineSpec, executors, kubernetes PlatformSpec), passes the server\'s upload checks and loads as a component', () => {
    const results = kfpPython(PYTHON!, [path.join(SCRIPTS, 'check_ir.py'), ...Object.values(files)]).trim().split('\n').map((line) => JSON.parse(line) as { file: string; errors: string[] });
    expect(results).toHaveLength(Object.keys(CASES).length);
    for (const result of results) expect(result.errors, result.file).toEqual([]);
  });

  it('refuses an IR with a misspelt executor field, so the check above can fail', () => {
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, buildPipelineIr(CASES.resources).text.replace('resourceCpuLimit:', 'resourceCpuLimt:').replace('nodeSelector:', 'nodeSelektor:'));
    const [result] = kfpPython(PYTHON!, [path.join(SCRIPTS, 'check_ir.py'), broken]).trim().split('\n').map((line) => JSON.parse(line) as { errors: string[] });
    expect(result!.errors.join('\n')).toMatch(/deploy: .*has no field named "resourceCpuLimt"/);
    expect(result!.errors.join('\n')).toMatch(/platform: .*has no field named "nodeSelektor"/);
  });

  it.each(Object.keys(CASES))('equals, document for document, what kfp compiles from the equivalent DSL pipeline (%s)', (name) => {
    const d = CASES[name as keyof typeof CASES];
    const ours = yamlDocs(buildPipelineIr(d).text);
    const spec = ours[0] as { pipelineInfo: { name: string; description: string }; root: { dag: { tasks: Record<string, { taskInfo: { name: string } }> } }; deploymentSpec: { executors: Record<string, { container: { env: Array<{ name: string; value: string }> } }> } };
    // What the config says, and the container's opaque strings (the script, the launcher, the spec) taken as they are.
    const description = {
      name: d.target.pipeline,
      description: spec.pipelineInfo.description,
      display_name: Object.values(spec.root.dag.tasks)[0]!.taskInfo.name,
      image: d.image,
      command: ['python', '-c', KFP_TASK_PY],
      env: Object.values(spec.deploymentSpec.executors)[0]!.container.env.map((e) => [e.name, e.value]),
      enable_caching: d.deploy.enable_caching,
      resources: rawResources(name),
    };
    const golden = path.join(dir, `${name}.golden.yaml`);
    kfpPython(PYTHON!, [path.join(SCRIPTS, 'golden.py'), writeJson(path.join(dir, `${name}.json`), description), golden]);
    expect(ours).toEqual(yamlDocs(readText(golden)));
  });
});

/** deploy.resources as the case wrote them, before our schema's normalising (a bare value is a request). */
function rawResources(name: string): unknown {
  switch (name) {
    case 'resources':
      return FULL_RESOURCES;
    case 'cached':
      return { cpu: { request: '1' }, memory: { request: '512M' } };
    case 'flow':
      return { gpu: { count: 1, accelerator: 'NVIDIA_TESLA_T4' }, memory: { limit: '3G' } };
    default:
      return undefined;
  }
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
