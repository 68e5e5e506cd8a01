import type { ResolvedDeployment } from '../../deployment.js';
import { ConfigError } from '../../errors.js';
import { containerTaskPy } from '../../packaging/container-task.js';
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

/** What the DockerOperator's container runs: the run's conf comes in LOLPOP_DEPLOY_CONF, which the DAG renders. */
export const CONTAINER_TASK_PY = containerTaskPy('env');
