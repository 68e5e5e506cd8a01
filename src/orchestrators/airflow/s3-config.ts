import { z } from 'zod';

/**
 * `orchestrator.config.s3` (with `delivery: s3`): the bucket prefix Airflow reads its DAGs
 * from (an S3DagBundle, or Amazon MWAA's DAGs folder). Credentials come from the AWS
 * SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a shared profile, web
 * identity for GitHub OIDC), never from this file.
 */
export const S3DeliveryConfig = z
  .object({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'expected a bucket name (3-63 lowercase letters, digits, dots and hyphens), e.g. acme-airflow-dags; without s3://' })
      .describe('The bucket, e.g. acme-airflow-dags.'),
    prefix: z
      .string()
      .default('dags')
      .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { message: 'expected a key prefix inside the bucket, e.g. dags' })
      .describe("The key prefix Airflow reads (S3DagBundle's prefix); each deployment gets <prefix>/<dag_id>/."),
    region: z.string().min(1).optional().describe("The bucket's region; else AWS_REGION / the profile's (us-east-1 with endpoint_url)."),
    endpoint_url: z
      .string()
      .regex(/^https?:\/\/[^/@\s]+\/?$/, { message: 'expected the store as an http(s) URL without a path or credentials, e.g. https://s3.example.com:9000' })
      .optional()
      .describe('An S3-compatible store instead of AWS (addressed path-style), e.g. http://minio.internal:9000.'),
    profile: z.string().min(1).optional().describe('A profile of the shared AWS config/credentials files; else AWS_PROFILE, else the default chain.'),
    bundle_name: z
      .string()
      .min(1)
      .optional()
      .describe("The name of Airflow's DAG bundle that reads this prefix: deploy asks it to refresh now instead of at its refresh_interval."),
  })
  .strict();

export type S3DeliveryConfig = z.infer<typeof S3DeliveryConfig>;
