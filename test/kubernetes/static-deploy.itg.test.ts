import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, runActionWithRegistry, type ActionRun } from '../helpers/run-action.js';
import { CLI_BUNDLE, runBundledCli } from '../helpers/run-cli.js';
import { service, tempDir } from '../helpers/services.js';
import { prefectApi } from '../helpers/pipeline.js';
import { dockerServices } from '../docker/helpers.js';
import { createNamespace, k8sServices, podsOf } from './cluster.js';

// The real cluster of scripts/k8s-services.sh (its node pulls from the authenticated registry
// of scripts/docker-services.sh through an image pull Secret, and its pods reach the Prefect
// server of scripts/services.sh at the node's address), driven by the bundled action under
// Node 24 and by the bundled CLI.
const node24 = service('LOLPOP_TEST_NODE24');
const apiUrl = service('LOLPOP_TEST_PREFECT_URL');
const k8s = k8sServices();
const docker = dockerServices();

// The run fails unless the Secret's value reached the pod through resources.env_from_secrets.
const SECRET_VALUE = 'token-from-a-secret';
const RUNNER_PY = `
import os

class K8sRunner:
    def __init__(self, conf, skip_config_validation=False):
        self.conf = conf

    def build_all(self, **params):
        assert os.environ.get("LOLPOP_E2E_TOKEN") == "${SECRET_VALUE}", "LOLPOP_E2E_TOKEN did not come from the Secret"
        print(f"k8s runner built with {params}")
`;

const uid = randomUUID().slice(0, 6);
const SLOW = 900_000;
const namespace = `lolpop-e2e-${uid}`;
const name = `k8s-e2e-${uid}`;
const podApiUrl = () => apiUrl!.replace('127.0.0.1', k8s!.nodeAddress);

function config(options: { name: string; tag: string; deploy?: string }): string {
  return `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  config:
    prefect_settings: {PREFECT_API_URL: "${apiUrl}"}
  deployment:
    name: ${options.name}
    type: kubernetes
    package:
      lolpop_class: K8sRunner
      lolpop_module: k8s_runner
      copy_files: [k8s_runner.py]
      base_image: ${docker!.baseImage}
      lolpop_install_location: ""
      docker_image_tag: "${docker!.registry}/lolpop-k8s-e2e:${options.tag}"
      push_image: true
      create_deployment: true
      docker_kwargs: [--network, host]
    deploy:
      namespace: ${namespace}
      pod_api_url: "${podApiUrl()}"
      image_pull_policy: IfNotPresent
      serve_timeout: 180s
      rollout_timeout: 300s
      resources:
        cpu: {request: 100m, limit: "1"}
        memory: {request: 128Mi, limit: 1Gi}
        node_selector: {kubernetes.io/os: linux}
        tolerations: [{key: lolpop.dev/ci, operator: Exists, effect: NoSchedule}]
        service_account: lolpop-runner
        env_from_secrets: {LOLPOP_E2E_TOKEN: {secret: e2e-token, key: token}}
${options.deploy ?? ''}
    run:
      parameters: {epochs: 2}
      wait: true
      wait_timeout: 180s
      poll_interval: 1s
`;
}

function project(yaml: string): string {
  const dir = tempDir('k8s');
  writeFileSync(path.join(dir, 'k8s_runner.py'), RUNNER_PY);
  writeFileSync(path.join(dir, 'lolpop.yaml'), yaml);
  return dir;
}

describe.skipIf(!node24 || !apiUrl || !k8s || !docker)('static kubernetes deployments on a real cluster', () => {
  const env = () => ({ KUBECONFIG: k8s!.kubeconfig, DOCKER_CONFIG: tempDir('docker-config') });
  const action = (dir: string, steps: string): Promise<ActionRun> =>
    runActionWithRegistry({
      node: node24!,
      cwd: dir,
      steps,
      credentials: docker!.credentials,
      env: env(),
    });

  beforeAll(async () => {
    expect(existsSync(BUNDLE) && existsSync(CLI_BUNDLE), 'dist/ must be built (npm run bundle)').toBe(true);
    await createNamespace(k8s!.client, namespace);
    await k8s!.client.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'lolpop-runner', namespace } });
    await k8s!.client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'e2e-token', namespace }, stringData: { token: SECRET_VALUE } });
  });

  afterAll(async () => {
    await k8s?.client.delete(`/api/v1/namespaces/${namespace}`);
    k8s?.client.close();
  });

  it('package → deploy → run through the action: pods Running from the pushed image (pulled with a pull Secret), resources on the pod, the served flow run COMPLETED', async () => {
    const dir = project(config({ name, tag: `v1-${uid}` }));
    const run = await action(dir, 'package,deploy,run');
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['flow-run-state']).toBe('COMPLETED');
    expect(run.log).toContain(`Deployment ${namespace}/${name} rolled out: 1 updated, 1 ready, 1 available of 1`);
    const pods = podsOf(k8s!, namespace, name);
    expect(pods.map((p) => [p.status.phase, p.spec.containers[0]!.image])).toEqual([['Running', `${docker!.registry}/lolpop-k8s-e2e:v1-${uid}`]]);
    const pod = pods[0]!;
    expect(pod.spec.imagePullSecrets).toEqual([{ name: `${name}-registry` }]);
    expect(pod.spec.containers[0]!.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(pod.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.spec.tolerations).toContainEqual({ key: 'lolpop.dev/ci', operator: 'Exists', effect: 'NoSchedule' });
    expect(pod.spec.serviceAccountName).toBe('lolpop-runner');
    expect(pod.spec.containers[0]!.env).toContainEqual({ name: 'LOLPOP_E2E_TOKEN', valueFrom: { secretKeyRef: { name: 'e2e-token', key: 'token' } } });
    const flowRun = await prefectApi<{ state_type: string; deployment_id: string }>(apiUrl!, 'GET', `flow_runs/${run.outputs['flow-run-id']}`);
    expect(flowRun).toMatchObject({ state_type: 'COMPLETED', deployment_id: run.outputs['deployment-id'] });
  }, SLOW);

  it('plan shows the objects and the server dry-run verdict', async () => {
    const dir = project(config({ name, tag: `v2-${uid}` }));
    const plan = await runBundledCli(['plan', '-c', 'lolpop.yaml', '--steps', 'deploy'], dir, env());
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(
      `server-side apply Secret ${namespace}/prefect-secrets, Deployment ${namespace}/${name}: the server's dry run (dryRun=All) at https://127.0.0.1:16443 accepts them`,
    );
  }, SLOW);

  it('a re-deploy with a new image rolls it out: the only pod left runs the new image', async () => {
    const dir = project(config({ name, tag: `v2-${uid}` }));
    const run = await action(dir, 'package,deploy,run');
    expect(run.status, run.log).toBe(0);
    expect(run.outputs['flow-run-state']).toBe('COMPLETED');
    const pods = podsOf(k8s!, namespace, name);
    expect(pods.map((p) => p.spec.containers[0]!.image)).toEqual([`${docker!.registry}/lolpop-k8s-e2e:v2-${uid}`]);
  }, SLOW);

  it('stop through the CLI scales to zero (twice: idempotent), then stop.mode delete removes the Deployment and, asked, the Secrets', async () => {
    const dir = project(config({ name, tag: `v2-${uid}` }));
    const cli = (...args: string[]) => runBundledCli(['stop', '-c', 'lolpop.yaml', ...args], dir, env());
    const first = await cli();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).toContain(`scaled Deployment ${namespace}/${name} to 0 replicas`);
    const deployment = await k8s!.client.get<{ spec: { replicas: number } }>(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
    expect(deployment!.spec.replicas).toBe(0);
    const again = await cli();
    expect(again.code, again.stderr).toBe(0);
    writeFileSync(path.join(dir, 'lolpop.yaml'), config({ name, tag: `v2-${uid}` }).replace('    run:', '    stop: {mode: delete, delete_secret: true}\n    run:'));
    const removed = await cli();
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout + removed.stderr).toContain(`deleted Deployment ${namespace}/${name}; deleted Secret ${namespace}/${name}-registry; deleted Secret ${namespace}/prefect-secrets`);
    expect(await k8s!.client.get(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`)).toBeUndefined();
    const twice = await cli();
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout + twice.stderr).toContain(`no Deployment ${namespace}/${name}`);
  }, SLOW);

  it('a manifest the server refuses (selector ≠ template labels): its message, and nothing applied', async () => {
    const dir = project(config({ name: `refused-${uid}`, tag: `v1-${uid}`, deploy: '      k8s_deployment_manifest: own.yaml\n      secret_name: refused-secrets' }));
    writeFileSync(
      path.join(dir, 'own.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: refused}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec: {containers: [{name: c, image: x}]}\n',
    );
    const refusal = `Kubernetes refused Deployment ${namespace}/refused: Deployment.apps "refused" is invalid: spec.template.metadata.labels: Invalid value`;
    const plan = await runBundledCli(['plan', '-c', 'lolpop.yaml', '--steps', 'deploy'], dir, env());
    expect(plan.code).not.toBe(0);
    expect(plan.stdout + plan.stderr).toContain(`the server's dry run (dryRun=All) at https://127.0.0.1:16443 refuses, so deploy would fail: ${refusal}`);
    const run = await runBundledCli(['build', '-c', 'lolpop.yaml'], dir, env());
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(`Failed to deploy, nothing applied: ${refusal}`);
    expect(await k8s!.client.get(`/api/v1/namespaces/${namespace}/secrets/refused-secrets`)).toBeUndefined();
  }, SLOW);

  it('an image that cannot be pulled fails the deploy with the pod reason, well within the rollout timeout', async () => {
    const dir = project(
      config({ name: `nopull-${uid}`, tag: `v1-${uid}`, deploy: `      docker_image_name: ${docker!.registry}/lolpop-k8s-e2e:does-not-exist` }),
    );
    // Through the action, so the pull Secret is there: the node is let in and finds no such tag.
    const run = await action(dir, 'deploy');
    expect(run.status).not.toBe(0);
    expect(run.log).toMatch(
      new RegExp(`Deployment ${namespace}/nopull-${uid} did not roll out: pod nopull-${uid}-\\S+, container flow-container: (ErrImagePull|ImagePullBackOff): .*does-not-exist: not found`),
    );
  }, SLOW);

  it('a container that keeps crashing fails the deploy with CrashLoopBackOff, its exit code and its last log lines (read from the kubelet)', async () => {
    const dir = project(config({ name: `crash-${uid}`, tag: `v1-${uid}`, deploy: '      k8s_deployment_manifest: own.yaml\n      secret_name: crash-secrets' }));
    // lolpop.local/pause:1 is the busybox image scripts/k8s-services.sh loads into the node: nothing to pull.
    writeFileSync(
      path.join(dir, 'own.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: crash}\nspec:\n  selector: {matchLabels: {app: crash}}\n  template:\n    metadata: {labels: {app: crash}}\n' +
        "    spec: {containers: [{name: c, image: 'lolpop.local/pause:1', imagePullPolicy: Never, command: [sh, -c, 'echo loading model; echo no model.pkl here; exit 3']}]}\n",
    );
    const run = await runBundledCli(['build', '-c', 'lolpop.yaml'], dir, env());
    expect(run.code).not.toBe(0);
    const out = run.stdout + run.stderr;
    // It may look ready for a moment (and count as rolled out): the wait for the served flow then notices.
    // The kubelet shows it waiting in CrashLoopBackOff, or (1.37, between restarts) terminated: either is the crash loop.
    expect(out).toMatch(new RegExp(`Deployment ${namespace}/crash (did not roll out|rolled out, then failed): pod crash-\\S+, container c: (CrashLoopBackOff: |keeps crashing: Error )`));
    expect(out).toMatch(/\(last exit code 3(, restarted \d+ times?)?\); its last log lines:\nloading model\nno model\.pkl here/);
  }, SLOW);

  it('a 70-character preview name is cut by the one rule before anything is applied; a GPU the node lacks is reported as Pending, not waited out', async () => {
    const long = `quickstart-pr-1234-${'feature-'.repeat(6)}${uid}`.slice(0, 70);
    expect(long).toHaveLength(70);
    const dir = project(
      config({ name: long, tag: `v1-${uid}`, deploy: `      docker_image_name: ${docker!.registry}/lolpop-k8s-e2e:v1-${uid}` }).replace(
        '        cpu: {request: 100m, limit: "1"}',
        '        cpu: {request: 100m, limit: "1"}\n        gpu: {count: 1, resource: nvidia.com/gpu}',
      ),
    );
    const run = await runBundledCli(['build', '-c', 'lolpop.yaml'], dir, env());
    expect(run.code).not.toBe(0);
    const list = await k8s!.client.get<{ items: Array<{ metadata: { name: string } }> }>(`/apis/apps/v1/namespaces/${namespace}/deployments`);
    const cut = list!.items.map((d) => d.metadata.name).filter((n) => n.startsWith('quickstart-pr-1234'));
    expect(cut).toHaveLength(1);
    expect(cut[0]).toMatch(/^quickstart-pr-1234-(feature-){4}featu-[0-9a-f]{6}$/);
    expect(cut[0]!.length).toBeLessThanOrEqual(63);
    // The pod's own name is the ReplicaSet's cut by Kubernetes (58 characters + 5 random).
    expect(run.stdout + run.stderr).toMatch(
      new RegExp(`Deployment ${namespace}/${cut[0]} did not roll out: pod quickstart-pr-1234-\\S+ is Pending, Unschedulable: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu`),
    );
  }, SLOW);
});
