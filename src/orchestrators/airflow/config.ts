import { z } from 'zod';
import { Duration } from '../../config/schema.js';
import { DockerTaskConfig } from './docker-config.js';
import { GitDeliveryConfig } from './git-config.js';
import { KubernetesTaskConfig } from './kubernetes-config.js';
import { S3DeliveryConfig } from './s3-config.js';

/**
 * AirflowOrchestrator's `orchestrator.config`. The connection comes from the
 * environment first (AIRFLOW_API_URL, AIRFLOW_USERNAME, AIRFLOW_PASSWORD, AIRFLOW_UI_URL);
 * these keys fill in what it does not set. Put the password in a `${ENV}` reference,
 * never in the file.
 */
export const AirflowConfig = z
  .object({
    api_url: z.string().min(1).optional().describe('Airflow 3 server, e.g. http://airflow.internal:8080 (AIRFLOW_API_URL wins).'),
    username: z.string().min(1).optional().describe('SimpleAuthManager (or other auth manager) user (AIRFLOW_USERNAME wins).'),
    password: z.string().min(1).optional().describe('Its password (AIRFLOW_PASSWORD wins); use a ${ENV} reference.'),
    ui_url: z.string().min(1).optional().describe("The UI's base URL for links ([api] base_url); defaults to api_url (AIRFLOW_UI_URL wins)."),
    delivery: z
      .enum(['folder', 'git', 's3'])
      .default('folder')
      .describe("How the DAG and its release reach Airflow: folder writes into dags_folder (a path on this machine); git commits and pushes them to the repository Airflow reads (a GitDagBundle, or git-sync); s3 uploads them under the bucket prefix Airflow reads (an S3DagBundle, or MWAA).")
      ,
    dags_folder: z
      .string()
      .min(1)
      .optional()
      .describe("The DAGs folder (of the server's dags-folder bundle) to deliver to, relative to the working directory or absolute; else AIRFLOW_DAGS_FOLDER."),
    git: GitDeliveryConfig.optional(),
    s3: S3DeliveryConfig.optional(),
    python: z
      .string()
      .min(1)
      .optional()
      .describe('Interpreter that runs the lolpop runner on the Airflow worker; else AIRFLOW_LOLPOP_PYTHON; else the one the worker runs.'),
    parse_timeout: Duration('3m').describe('How long deploy waits for Airflow to parse the new DAG file.'),
    request_timeout: Duration('30s').describe('The budget of one REST call, its retries included; a hung server fails within it.'),
    dag_tags: z.array(z.string()).default([]).describe('Extra tags on the generated DAG.'),
    task: z
      .enum(['bash', 'docker', 'kubernetes'])
      .default('bash')
      .describe(
        "The DAG's task: bash runs the runner with a Python on the Airflow worker; docker runs it in the package's image (DockerOperator); kubernetes runs that image in a pod (KubernetesPodOperator).",
      ),
    docker: DockerTaskConfig.optional(),
    kubernetes: KubernetesTaskConfig.optional(),
  })
  .loose()
  .superRefine((config, ctx) => {
    // Each kind's keys only with that kind: a key that would be silently ignored is a mistake.
    if (config.task !== 'bash' && config.python !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['python'], message: `task: ${config.task} runs the runner with the image's own python; python is for task: bash` });
    }
    if (config.delivery === 'git' && config.git === undefined) {
      ctx.addIssue({ code: 'custom', path: ['git'], message: 'delivery is git: name the repository (git: {url: https://…/dags.git, token: ${GIT_TOKEN}})' });
    }
    if (config.delivery !== 'git' && config.git !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['git'], message: 'only read with delivery: git (the default delivery is folder); set delivery: git or remove it' });
    }
    if (config.delivery === 's3' && config.s3 === undefined) {
      ctx.addIssue({ code: 'custom', path: ['s3'], message: 'delivery is s3: name the bucket (s3: {bucket: acme-airflow-dags, prefix: dags})' });
    }
    if (config.delivery !== 's3' && config.s3 !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['s3'], message: `only read with delivery: s3 (delivery is ${config.delivery}); set delivery: s3 or remove it` });
    }
    if (config.delivery !== 'folder' && config.dags_folder !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['dags_folder'], message: `only read with delivery: folder; delivery ${config.delivery} writes no local folder: remove it` });
    }
    for (const kind of ['docker', 'kubernetes'] as const) {
      if (config.task !== kind && config[kind] !== undefined) {
        const now = config.task === 'bash' ? 'the default task is bash' : `task is ${config.task}`;
        ctx.addIssue({ code: 'custom', path: [kind], message: `only read with task: ${kind} (${now}); set task: ${kind} or remove it` });
      }
    }
  });

export type AirflowConfig = z.infer<typeof AirflowConfig>;
