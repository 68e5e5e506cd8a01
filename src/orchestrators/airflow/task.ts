import { unsupportedResources, type Resources } from '../../config/resources.js';
import type { ResolvedDeployment } from '../../deployment.js';
import { ConfigError } from '../../errors.js';
import { dockerResources, type DockerResources } from '../../docker/resources.js';
import { kubernetesName } from '../../kubernetes/names.js';
import { containerTaskPy } from '../../packaging/container-task.js';
import type { AirflowConfig } from './config.js';
import { DockerTaskConfig } from './docker-config.js';
import { KubernetesTaskConfig } from './kubernetes-config.js';
import type { AirflowKwargs } from './kwargs.js';

/**
 * What the DAG's one task is. `bash`: a BashOperator running the runner with a Python on
 * the Airflow worker (the release carries the workflow's files). `docker`: a
 * DockerOperator running the runner inside the package's image (the image carries them).
 * `kubernetes`: a KubernetesPodOperator running it in that image, in a pod named after
 * the deployment (Kubernetes' name rule; the operator adds a random suffix per run).
 */
export type AirflowTask =
  | { kind: 'bash'; python?: string }
  | { kind: 'docker'; image: string; docker: DockerTaskConfig; resources?: DockerResources }
  | { kind: 'kubernetes'; image: string; kubernetes: KubernetesTaskConfig; podName: string; resources?: Resources };

/** Whether the task runs the package's image (package builds it; the release holds no workflow files). */
export function runsInImage(task: AirflowTask): task is Exclude<AirflowTask, { kind: 'bash' }> {
  return task.kind !== 'bash';
}

type TaskDeployment = Pick<ResolvedDeployment<AirflowKwargs>, 'name' | 'package' | 'image' | 'deploy'>;

/**
 * The one place that decides the task kind, for package (build or not), plan and deploy
 * (the DAG). The image kinds run the image package builds (the resolved deployment's).
 * deploy.resources reach a pod (kubernetes) or the container's limits (docker, what Docker
 * can honour); a bash task has no place for them: refused by name.
 */
export function airflowTask(config: AirflowConfig, env: NodeJS.ProcessEnv, deployment: TaskDeployment): AirflowTask {
  const resources = deployment.deploy.resources;
  if (config.task === 'bash') {
    const refused = unsupportedResources(resources, []);
    if (refused.length > 0) {
      throw new ConfigError(
        `orchestrator.deployment.deploy.resources (${refused.join(', ')}) is honoured by task: kubernetes (the pod of a KubernetesPodOperator) and task: docker (the container's limits); ` +
          'task is bash, which runs on the worker itself and has no place for it: set task: docker or kubernetes, or remove deploy.resources',
      );
    }
  }
  if (config.task === 'bash') return { kind: 'bash', python: config.python ?? (env.AIRFLOW_LOLPOP_PYTHON || undefined) };
  if (deployment.package.package_type !== 'docker') {
    throw new ConfigError(
      `orchestrator.config.task is ${config.task}, but orchestrator.deployment.package.package_type is none: the task runs the package's image, ` +
        'so package must build it (package_type: docker), or use task: bash',
    );
  }
  if (config.task === 'docker') {
    return {
      kind: 'docker',
      image: deployment.image,
      docker: config.docker ?? DockerTaskConfig.parse({}),
      ...(resources ? { resources: dockerResources(resources, "Airflow task: docker (the DockerOperator's container)") } : {}),
    };
  }
  return {
    kind: 'kubernetes',
    image: deployment.image,
    kubernetes: config.kubernetes ?? KubernetesTaskConfig.parse({}),
    podName: kubernetesName(deployment.name, 'deployment name'),
    ...(resources ? { resources } : {}),
  };
}

/** What the container of an image task runs: the run's conf comes in LOLPOP_DEPLOY_CONF, which the DAG renders. */
export const CONTAINER_TASK_PY = containerTaskPy('env');
