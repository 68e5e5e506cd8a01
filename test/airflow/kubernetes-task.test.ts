import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PackageKwargs } from '../../src/config/schema.js';
import { buildBundle } from '../../src/orchestrators/airflow/bundle.js';
import type { AirflowConfig } from '../../src/orchestrators/airflow/config.js';
import { KubernetesTaskConfig } from '../../src/orchestrators/airflow/kubernetes-config.js';
import { AirflowDeployKwargs, type AirflowKwargs } from '../../src/orchestrators/airflow/kwargs.js';
import { airflowTask } from '../../src/orchestrators/airflow/task.js';
import type { AirflowTarget } from '../../src/orchestrators/airflow/names.js';
import { tempDir } from '../helpers/services.js';
import { resolvedFrom } from '../helpers/requests.js';
import { airflowConfigError, CHOSEN } from './config-error.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

const config = (over: Partial<AirflowConfig>) => ({ parse_timeout: 1, request_timeout: 1, dag_tags: [], task: 'kubernetes', ...over }) as AirflowConfig;
const pkg = PackageKwargs.parse({ lolpop_class: 'TinyRunner', lolpop_module: 'tiny_runner', docker_image_tag: '127.0.0.1:5000/acme/q:c0ffee0' });
const deployment = (name: string, deploy: Record<string, unknown> = {}, over: Record<string, unknown> = {}) =>
  resolvedFrom<AirflowKwargs, AirflowTarget>('AirflowOrchestrator', { name, package: { ...pkg, ...over }, deploy: AirflowDeployKwargs.parse(deploy) });


describe('orchestrator.config.kubernetes: the messages a user sees', () => {
  it('each bad setting at its line, by its key', () => {
    expect(
      airflowConfigError(
        [
          '    task: kubernetes',
          '    kubernetes:',
          '      namespace: ML_Team',
          '      config_file: kubeconfig',
          '      image_pull_secrets: [Regcred]',
          '      startup_timeout: soon',
          '      environment: {LOLPOP_DEPLOY_SPEC: x}',
        ].join('\n'),
      ),
    ).toBe(
      [
        "lolpop.yaml:5:7: orchestrator.config.kubernetes.namespace: expected a namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit",
        'lolpop.yaml:6:7: orchestrator.config.kubernetes.config_file: expected an absolute path on the Airflow worker, e.g. /opt/airflow/kubeconfig',
        "lolpop.yaml:7:28: orchestrator.config.kubernetes.image_pull_secrets[0]: expected a Secret name: lower-case letters, digits and '-', starting and ending with a letter or digit",
        "lolpop.yaml:8:7: orchestrator.config.kubernetes.startup_timeout: 'soon' is not a duration; expected e.g. 90s, 30m, 1h30m",
        "lolpop.yaml:9:21: orchestrator.config.kubernetes.environment.LOLPOP_DEPLOY_SPEC: LOLPOP_DEPLOY_* variables are set by lolpop-deploy (the run's conf, run id and deployment)",
      ].join('\n') + CHOSEN,
    );
  });

  it('a misspelt key is named with its likely meaning', () => {
    expect(airflowConfigError('    task: kubernetes\n    kubernetes: {namespce: ml}')).toBe(
      'lolpop.yaml:4:18: orchestrator.config.kubernetes.namespce: unknown key; did you mean namespace?' + CHOSEN,
    );
  });

  it('in_cluster with a kubeconfig is two ways to one cluster: refused', () => {
    expect(airflowConfigError('    task: kubernetes\n    kubernetes: {in_cluster: true, config_file: /k/config}')).toMatch(
      /orchestrator\.config\.kubernetes\.in_cluster: in_cluster: true uses the pod's own ServiceAccount; config_file and cluster_context are for a kubeconfig: keep one/,
    );
  });

  it("the kubernetes keys under another task kind, and the bash task's python under kubernetes, are refused", () => {
    expect(airflowConfigError('    task: docker\n    kubernetes: {namespace: ml}')).toMatch(
      /orchestrator\.config\.kubernetes: only read with task: kubernetes \(task is docker\); set task: kubernetes or remove it/,
    );
    expect(airflowConfigError('    kubernetes: {namespace: ml}')).toMatch(/only read with task: kubernetes \(the default task is bash\)/);
    expect(airflowConfigError('    task: kubernetes\n    python: /usr/bin/python3')).toMatch(
      /orchestrator\.config\.python: task: kubernetes runs the runner with the image's own python; python is for task: bash/,
    );
    expect(airflowConfigError('    task: kubernetes\n    kubernetes: {namespace: ml, startup_timeout: 5m}')).toBe('');
  });
});

describe('airflowTask: task kubernetes', () => {
  it('runs the image package builds, in a pod named by the Kubernetes name rule (70 characters are cut with a hash)', () => {
    const task = airflowTask(config({}), {}, deployment('quickstart'));
    expect(task).toEqual({
      kind: 'kubernetes',
      image: '127.0.0.1:5000/acme/q:c0ffee0',
      kubernetes: KubernetesTaskConfig.parse({}),
      podName: 'quickstart',
    });
    const long = `Quickstart_PR-1234-${'feature-'.repeat(7)}x`;
    expect(long.length).toBeGreaterThan(63);
    const cut = airflowTask(config({}), {}, deployment(long));
    expect(cut).toMatchObject({ podName: expect.stringMatching(/^quickstart-pr-1234-feature-[a-z-]+-[0-9a-f]{6}$/) });
    expect((cut as { podName: string }).podName.length).toBeLessThanOrEqual(63);
    expect(airflowTask(config({}), {}, deployment(long))).toEqual(cut);
  });

  it('package_type none: no image to run', () => {
    expect(errorOf(() => airflowTask(config({}), {}, deployment('q', {}, { package_type: 'none' })))).toBe(
      "orchestrator.config.task is kubernetes, but orchestrator.deployment.package.package_type is none: the task runs the package's image, so package must build it (package_type: docker), or use task: bash",
    );
  });

  it('deploy.resources with a bash task is refused by name, not dropped', () => {
    const withResources = deployment('q', { resources: { cpu: '500m', gpu: { count: 1 } } });
    expect(errorOf(() => airflowTask(config({ task: 'bash' }), {}, withResources))).toBe(
      "orchestrator.deployment.deploy.resources (cpu, gpu) is honoured by task: kubernetes (the pod of a KubernetesPodOperator) and task: docker (the container's limits); " +
        'task is bash, which runs on the worker itself and has no place for it: set task: docker or kubernetes, or remove deploy.resources',
    );
  });

  it('deploy.resources with a docker task: Docker\'s limits; what one engine cannot honour is refused by name', () => {
    const task = airflowTask(config({ task: 'docker' }), {}, deployment('q', { resources: { cpu: '500m', memory: { limit: '1Gi' }, gpu: { count: 1 } } }));
    expect(task).toMatchObject({ kind: 'docker', resources: { nanoCpus: 500_000_000, memoryBytes: 1_073_741_824, gpus: 1 } });
    expect(errorOf(() => airflowTask(config({ task: 'docker' }), {}, deployment('q', { resources: { cpu: '1', tolerations: [{ key: 'x' }] } })))).toBe(
      "orchestrator.deployment.deploy.resources cannot be honoured by Airflow task: docker (the DockerOperator's container): " +
        'orchestrator.deployment.deploy.resources.tolerations: a Docker engine has no taints to tolerate; it applies to Kubernetes targets ' +
        '(deployment.type kubernetes, a kubernetes work pool, Airflow task: kubernetes). Remove that key.',
    );
  });
});

describe('the kubernetes task: the DAG file', () => {
  const resources = {
    cpu: { request: '250m', limit: '1' },
    memory: '256Mi',
    gpu: { count: 1, resource: 'nvidia.com/gpu' },
    node_selector: { 'lolpop-deploy/pool': 'cpu' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule', toleration_seconds: 30 }],
    service_account: 'trainer',
    env_from_secrets: { MLFLOW_TOKEN: { secret: 'mlflow', key: 'token' } },
  };
  const bundleOf = (k: Record<string, unknown>, deploy: Record<string, unknown> = {}) => {
    const d = deployment('quickstart', deploy);
    return buildBundle({ deployment: d, workdir: tempDir('airflow-k8s'), task: airflowTask(config({ kubernetes: KubernetesTaskConfig.parse(k) }), {}, d), extraTags: [] });
  };

  it("is one KubernetesPodOperator in the image; spec and launcher as verbatim templates, conf and run id rendered; the operator's defaults where the config says nothing", () => {
    const dag = bundleOf({}).dagFile;
    expect(dag).toContain('from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator');
    expect(dag).not.toContain('DockerOperator');
    expect(dag).toContain(
      [
        '    KubernetesPodOperator(',
        '        task_id="build_all",',
        '        name="quickstart",',
        '        namespace="default",',
        '        image=IMAGE,',
        '        cmds=["python", "-c", release_file("container_task.py")],',
        '        env_vars=[',
        '            k8s.V1EnvVar(name="LOLPOP_DEPLOY_CONF", value="{{ dag_run.conf | tojson }}"),',
        '            k8s.V1EnvVar(name="LOLPOP_DEPLOY_RUN_ID", value="{{ run_id }}"),',
        '            k8s.V1EnvVar(name="LOLPOP_DEPLOY_DEPLOYMENT", value=verbatim("quickstart")),',
        '            k8s.V1EnvVar(name="PYTHONUNBUFFERED", value="1"),',
        '            k8s.V1EnvVar(name="PYTHONDONTWRITEBYTECODE", value="1"),',
        '            k8s.V1EnvVar(name="LOLPOP_DEPLOY_SPEC", value=verbatim(release_file("spec.json"))),',
        '            k8s.V1EnvVar(name="LOLPOP_DEPLOY_LAUNCHER", value=verbatim(release_file("launcher.py"))),',
        '        ],',
        '        labels={"app.kubernetes.io/managed-by": "lolpop-deploy", "lolpop-deploy/deployment": "quickstart"},',
        '        schedule_timeout_seconds=120,',
        '        startup_timeout_seconds=120,',
        '        get_logs=True,',
        '        log_events_on_failure=True,',
        '        log_pod_spec_on_failure=False,',
        '        on_finish_action="delete_pod",',
        '    )',
      ].join('\n'),
    );
  });

  it('carries the cluster settings and every deploy.resources key in the operator\'s own arguments', () => {
    const dag = bundleOf(
      { namespace: 'ml', config_file: '/etc/kube/config', cluster_context: 'ci', image_pull_policy: 'Always', image_pull_secrets: ['regcred'], startup_timeout: '90s', on_finish_action: 'keep_pod', environment: { TOKEN: '{{ var.value.token }}' } },
      { resources },
    ).dagFile;
    for (const line of [
      '        namespace="ml",',
      '            k8s.V1EnvVar(name="TOKEN", value="{{ var.value.token }}"),',
      '        config_file="/etc/kube/config",',
      '        cluster_context="ci",',
      '        image_pull_policy="Always",',
      '        image_pull_secrets=[k8s.V1LocalObjectReference(name="regcred")],',
      '        container_resources=k8s.V1ResourceRequirements(requests={"cpu": "250m", "memory": "256Mi", "nvidia.com/gpu": "1"}, limits={"cpu": "1", "nvidia.com/gpu": "1"}),',
      '        node_selector={"lolpop-deploy/pool": "cpu"},',
      '        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule", "toleration_seconds": 30}],',
      '        service_account_name="trainer",',
      '        secrets=[Secret("env", "MLFLOW_TOKEN", "mlflow", "token")],',
      '        schedule_timeout_seconds=90,',
      '        startup_timeout_seconds=90,',
      '        on_finish_action="keep_pod",',
    ]) {
      expect(dag).toContain(line);
    }
    expect(dag).not.toContain('in_cluster=');
    expect(dag).not.toContain('kubernetes_conn_id=');
    expect(bundleOf({ in_cluster: true, kubernetes_conn_id: 'k8s' }).dagFile).toMatch(/ {8}kubernetes_conn_id="k8s",\n {8}in_cluster=True,\n/);
  });

  it('is Python that parses, and a change to the resources is a new release', () => {
    const withResources = bundleOf({}, { resources });
    const file = path.join(tempDir('airflow-k8s-dag'), 'dag.py');
    writeFileSync(file, withResources.dagFile);
    execFileSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file]);
    expect(withResources.fingerprint).not.toBe(bundleOf({}).fingerprint);
    expect(withResources.release.map((f) => f.path).sort()).toEqual(['container_task.py', 'launcher.py', 'spec.json']);
  });
});
