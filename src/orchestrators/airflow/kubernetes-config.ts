import { z } from 'zod';
import { Duration } from '../../config/schema.js';
import { ContainerEnvironment } from './docker-config.js';

/** A Kubernetes object name that must already exist (namespace, Secret): a DNS-1123 label. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const k8sName = (what: string) =>
  z.string().max(63, `a ${what} name has at most 63 characters`).regex(K8S_NAME, `expected a ${what} name: lower-case letters, digits and '-', starting and ending with a letter or digit`);

/**
 * `orchestrator.config.kubernetes`: the KubernetesPodOperator settings of `task:
 * kubernetes` (apache-airflow-providers-cncf-kubernetes), named as the operator names
 * them. How the worker reaches the cluster is the operator's own choice, in its order:
 * `in_cluster` (the worker runs in a pod), else `config_file` (a kubeconfig on the worker)
 * or the Airflow connection `kubernetes_conn_id`. Pod resources, node selector,
 * tolerations, service account and Secret-backed variables are `deploy.resources`, the
 * same keys every orchestrator reads.
 */
export const KubernetesTaskConfig = z
  .strictObject({
    namespace: k8sName('namespace').default('default').describe('The namespace the pod runs in; it must exist.'),
    kubernetes_conn_id: z
      .string()
      .regex(/^[\w#!()\-.:/\\]+$/, 'expected an Airflow connection id, e.g. kubernetes_default (letters, digits and _ - . : / # ! ( ) only)')
      .optional()
      .describe('An Airflow connection of type kubernetes (its kubeconfig, context, namespace); default: kubernetes_default when it exists.'),
    in_cluster: z.boolean().optional().describe("true when the Airflow worker runs in a pod of the cluster (its ServiceAccount's token)."),
    config_file: z
      .string()
      .regex(/^\//, 'expected an absolute path on the Airflow worker, e.g. /opt/airflow/kubeconfig')
      .optional()
      .describe('A kubeconfig on the Airflow worker (a path there, not on this runner).'),
    cluster_context: z.string().min(1).optional().describe("A context of that kubeconfig; default: its current-context."),
    image_pull_policy: z.enum(['Always', 'IfNotPresent', 'Never']).optional().describe("Kubernetes' default: Always for :latest, else IfNotPresent."),
    image_pull_secrets: z
      .array(k8sName('Secret'))
      .default([])
      .describe('Secrets (type kubernetes.io/dockerconfigjson) in the namespace the node pulls a private image with.'),
    startup_timeout: Duration('2m').describe('How long the pod may stay Pending (being scheduled, then pulling) before the task fails.'),
    on_finish_action: z
      .enum(['delete_pod', 'delete_succeeded_pod', 'keep_pod'])
      .default('delete_pod')
      .describe('What happens to the pod when the task ends; its log is in the task log either way.'),
    environment: ContainerEnvironment,
  })
  .superRefine((config, ctx) => {
    if (config.in_cluster === true && (config.config_file !== undefined || config.cluster_context !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['in_cluster'], message: 'in_cluster: true uses the pod\'s own ServiceAccount; config_file and cluster_context are for a kubeconfig: keep one' });
    }
  })
  .describe('KubernetesPodOperator settings, for task: kubernetes.');

export type KubernetesTaskConfig = z.infer<typeof KubernetesTaskConfig>;
