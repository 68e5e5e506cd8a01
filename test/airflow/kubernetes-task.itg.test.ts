import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesName } from '../../src/kubernetes/names.js';
import { pullSecretManifest } from '../../src/orchestrators/prefect/kubernetes/manifests.js';
import { dockerServices } from '../docker/helpers.js';
import { BUNDLE, runActionWithRegistry, type ActionRun } from '../helpers/run-action.js';
import { runBundledCli } from '../helpers/run-cli.js';
import { service, tempDir } from '../helpers/services.js';
import { createNamespace, k8sServices, type PodJson } from '../kubernetes/cluster.js';
import { airflowEnv, airflowGet, airflowService } from './helpers.js';

// orchestrator.config.task: kubernetes against a real Airflow 3 (scripts/airflow-services.sh,
// with the cncf-kubernetes provider) and the real cluster of scripts/k8s-services.sh: the
// Airflow worker's KubernetesPodOperator reads the cluster's kubeconfig (config_file) and
// starts a pod that pulls the image package pushed to the authenticated registry (a pull
// Secret in the namespace) and runs the runner. Driven by the bundled action under Node 24
// and by the bundled CLI.
const node24 = service('LOLPOP_TEST_NODE24');
const airflow = airflowService();
const k8s = k8sServices();
const docker = dockerServices();
const SLOW = 600_000;

/** A lolpop-shaped runner that shows what reached it: the run's conf and a variable from a Kubernetes Secret. */
const RUNNER_PY = `import os
import time


class PodRunner:
    def __init__(self, conf, skip_config_validation=False):
        self.conf = conf

    def build_all(self, greeting="hello", fail=False, sleep=0):
        if sleep:
            print("pod runner: sleeping %s s" % sleep, flush=True)
            time.sleep(sleep)
        print("pod runner: %s, token from the Secret: %s" % (greeting, os.environ.get("MLFLOW_TOKEN") == "s3cr3t-in-k8s"), flush=True)
        if fail:
            print("pod runner: about to fail", flush=True)
            raise RuntimeError("the model diverged: %s" % greeting)
        print("pod runner: done", flush=True)
`;

const uid = randomUUID().slice(0, 6);
const namespace = `lolpop-kpo-${uid}`;

describe.skipIf(!node24 || !airflow || !k8s || !docker)('AirflowOrchestrator task: kubernetes, a KubernetesPodOperator on a real cluster', () => {
  /** The workflow: the runner, and a config with the deployment's own name, image and resources. */
  function project(options: { name: string; parameters: string; image?: string; resources?: string; kubernetes?: string; startupTimeout?: string; wait?: boolean }): string {
    const dir = tempDir('airflow-kpo');
    writeFileSync(path.join(dir, 'pod_runner.py'), RUNNER_PY);
    writeFileSync(
      path.join(dir, 'lolpop.yaml'),
      `
decorator:
  orchestrator: AirflowOrchestrator
orchestrator:
  config:
    dags_folder: ${JSON.stringify(airflow!.dagsFolder)}
    parse_timeout: 2m
    task: kubernetes
    kubernetes:
      namespace: ${namespace}
      config_file: ${JSON.stringify(k8s!.kubeconfig)}
      image_pull_secrets: [lolpop-registry]
      startup_timeout: ${options.startupTimeout ?? '60s'}
${options.kubernetes ?? ''}  deployment:
    name: ${options.name}
    type: local
    package:
      lolpop_class: PodRunner
      lolpop_module: pod_runner
      lolpop_entrypoint: build_all
      config_file: lolpop.yaml
      copy_files: [pod_runner.py]
      package_type: docker
      base_image: ${docker!.baseImage}
      lolpop_install_location: ""
      docker_image_tag: "${options.image ?? `${docker!.registry}/lolpop-kpo:${uid}`}"
      push_image: true
      docker_kwargs: [--network, host]
    deploy:
      resources:
${options.resources ?? '        env_from_secrets: {MLFLOW_TOKEN: {secret: mlflow, key: token}}'}
    run:
      parameters: ${options.parameters}
      wait: ${options.wait ?? true}
      wait_timeout: 300s
      poll_interval: 1s
`,
    );
    return dir;
  }

  const env = () => ({ ...airflowEnv(airflow!), DOCKER_CONFIG: tempDir('docker-config') }) as Record<string, string>;
  const action = (dir: string, steps = 'package,deploy,run'): Promise<ActionRun> =>
    runActionWithRegistry({ node: node24!, cwd: dir, steps, credentials: docker!.credentials, env: env() });

  /** The pods the operator made for a deployment (its label), as the server has them. */
  async function podsOf(deployment: string): Promise<PodJson[]> {
    const selector = encodeURIComponent(`lolpop-deploy/deployment=${kubernetesName(deployment, 'deployment name')}`);
    return (await k8s!.client.get<{ items: PodJson[] }>(`/api/v1/namespaces/${namespace}/pods?labelSelector=${selector}`))!.items;
  }

  beforeAll(async () => {
    expect(existsSync(BUNDLE), 'dist/ must be built (npm run bundle)').toBe(true);
    // What a user sets up once on the cluster: the namespace, the registry's pull Secret,
    // the Secret deploy.resources.env_from_secrets reads, the ServiceAccount pods run as.
    await createNamespace(k8s!.client, namespace);
    const { username, password } = docker!.credentials;
    await k8s!.client.apply(pullSecretManifest({ name: 'lolpop-registry', namespace, registry: docker!.registry, username, password }));
    await k8s!.client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mlflow', namespace }, stringData: { token: 's3cr3t-in-k8s' } });
    await k8s!.client.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'trainer', namespace } });
  });

  afterAll(async () => {
    await k8s?.client.delete(`/api/v1/namespaces/${namespace}`);
    k8s?.client.close();
  });

  it('package → deploy → run: the pod runs the pushed image with the run conf and deploy.resources, the DAG run ends COMPLETED', async () => {
    const name = `kpo-ok-${uid}`;
    const resources = [
      '        cpu: {request: 100m, limit: "1"}',
      '        memory: {request: 64Mi, limit: 512Mi}',
      '        node_selector: {kubernetes.io/os: linux}',
      '        tolerations: [{key: lolpop.dev/ci, operator: Exists, effect: NoSchedule}]',
      '        service_account: trainer',
      '        env_from_secrets: {MLFLOW_TOKEN: {secret: mlflow, key: token}}',
    ].join('\n');
    // keep_pod: the finished pod stays for kubectl to show what it was given.
    const run = await action(project({ name, parameters: '{greeting: "from the pod"}', resources, kubernetes: '      on_finish_action: keep_pod\n' }));
    expect(run.status, run.log.slice(-4000)).toBe(0);
    expect(run.outputs['run-state']).toBe('COMPLETED');
    const pods = await podsOf(name);
    expect(pods.map((p) => p.status.phase)).toEqual(['Succeeded']);
    const pod = pods[0]!;
    expect(pod.metadata.name).toMatch(new RegExp(`^${name}-[a-z0-9]{8}$`));
    expect(pod.spec.containers[0]!.image).toBe(`${docker!.registry}/lolpop-kpo:${uid}`);
    expect(pod.spec.imagePullSecrets).toEqual([{ name: 'lolpop-registry' }]);
    expect(pod.spec.containers[0]!.resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    expect(pod.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.spec.tolerations).toContainEqual({ key: 'lolpop.dev/ci', operator: 'Exists', effect: 'NoSchedule' });
    expect(pod.spec.serviceAccountName).toBe('trainer');
    expect(pod.spec.containers[0]!.env).toContainEqual({ name: 'MLFLOW_TOKEN', valueFrom: { secretKeyRef: { name: 'mlflow', key: 'token' } } });
    // The container's own output: the run's conf reached the runner, and so did the Secret's value.
    const log = await k8s!.client.text(`/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/log`);
    expect(log).toContain('pod runner: from the pod, token from the Secret: True');
    expect(log).toContain('pod runner: done');
  }, SLOW);

  it('a runner that raises: the DAG run FAILED, with the exception and the pod log tail in the error', async () => {
    const run = await action(project({ name: `kpo-fail-${uid}`, parameters: '{greeting: boom, fail: true}' }));
    expect(run.status).not.toBe(0);
    expect(run.outputs['run-state'], run.log.slice(-4000)).toBe('FAILED');
    // The runner's exception with the container's exit code, and the container's own last lines (not the pod's status dump).
    expect(run.log).toMatch(/ended FAILED: task build_all failed: RuntimeError: the model diverged: boom \(exit code 1\)%0ALast log lines of build_all:%0A(.*%0A)* {2}pod runner: about to fail%0A/);
    // delete_pod (the default): nothing is left on the cluster.
    await expect.poll(async () => (await podsOf(`kpo-fail-${uid}`)).length, { timeout: 60_000, interval: 1000 }).toBe(0);
  }, SLOW);

  it('an image that cannot be pulled (the CLI): the run fails with the kubelet\'s reason, well within the wait timeout', async () => {
    const dir = project({ name: `kpo-nopull-${uid}`, parameters: '{}', image: `${docker!.registry}/lolpop-kpo:does-not-exist-${uid}` });
    const started = Date.now();
    // No package step: that tag was never pushed.
    const cli = await runBundledCli(['up', '-c', 'lolpop.yaml', '--steps', 'deploy,run'], dir, env());
    const out = cli.stdout + cli.stderr;
    expect(cli.code, out.slice(-4000)).not.toBe(0);
    expect(out).toMatch(/Image cannot be pulled, unable to start: (ErrImagePull|ImagePullBackOff)/);
    expect(out).toContain('not found');
    expect(Date.now() - started).toBeLessThan(240_000);
  }, SLOW);

  it('a GPU no node has: the pod stays Pending, and the run fails with the scheduler\'s reason when startup_timeout ends, not at the wait timeout', async () => {
    const dir = project({
      name: `kpo-gpu-${uid}`,
      parameters: '{}',
      resources: '        gpu: {count: 1, resource: nvidia.com/gpu}',
      startupTimeout: '20s',
    });
    const started = Date.now();
    const run = await action(dir);
    expect(run.status).not.toBe(0);
    expect(run.outputs['run-state'], run.log.slice(-4000)).toBe('FAILED');
    const error = run.log.split('\n').find((l) => l.startsWith('::error::')) ?? '';
    expect(error).toContain('Insufficient nvidia.com/gpu');
    expect(Date.now() - started).toBeLessThan(240_000);
  }, SLOW);

  it('stop with cancel_runs (the CLI) while the pod runs: the DAG run is failed and the operator deletes its pod', async () => {
    const name = `kpo-stop-${uid}`;
    const dir = project({ name, parameters: '{sleep: 600}', wait: false });
    const started = await action(dir);
    expect(started.status, started.log.slice(-4000)).toBe(0);
    await expect.poll(async () => (await podsOf(name)).map((p) => p.status.phase), { timeout: 120_000, interval: 1000 }).toEqual(['Running']);
    const stop = await runBundledCli(['stop', '-c', 'lolpop.yaml', '--stop-kwargs', '{"cancel_runs": true}'], dir, env());
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    // The task is killed, and KubernetesPodOperator's on_kill deletes the pod: nothing keeps running on the cluster.
    await expect.poll(async () => (await podsOf(name)).length, { timeout: 90_000, interval: 1000 }).toBe(0);
    const run = await airflowGet<{ state: string }>(airflow!, `dags/${name}/dagRuns/${encodeURIComponent(started.outputs['run-id']!)}`);
    expect(run.body.state).toBe('failed');
  }, SLOW);
});
