import { z } from 'zod';
import { DeployKwargs, PackageKwargs, RunKwargs, StopKwargs, stringMap, type KwargsSchemas } from '../../config/schema.js';
import { Resources } from '../../config/resources.js';

/**
 * KubeflowPipelinesOrchestrator's own step kwargs: the common ones plus what a KFP
 * pipeline has (resources, environment, caching, a recurring run). Strict, so a typo is
 * reported rather than dropped.
 */

/** A recurring run of the deployment's pipeline version: KFP's cron (6 fields, with seconds) or an interval. */
export const KubeflowSchedule = z
  .strictObject({
    cron: z.string().min(1).optional().describe('KFP cron, six fields with seconds first: "0 0 * * * *" is hourly.'),
    interval: z.number().int().min(1).optional().describe('Seconds between runs (KFP periodic schedule).'),
    max_concurrency: z.number().int().min(1).max(10).default(1),
    no_catchup: z.boolean().default(true).describe('Run only the latest missed interval, not each one.'),
  })
  .refine((s) => (s.cron === undefined) !== (s.interval === undefined), { message: 'give exactly one of cron and interval' });

export const KubeflowDeployKwargs = DeployKwargs.extend({
  resources: Resources.optional(),
  env: stringMap.optional().describe("Environment variables of the pipeline's container."),
  enable_caching: z.boolean().default(false).describe("KFP's step cache; off, so every run runs the workflow."),
  schedule: KubeflowSchedule.optional(),
});

export const KubeflowStopKwargs = StopKwargs.extend({
  delete_versions: z
    .boolean()
    .default(false)
    .describe("mode delete: also delete the pipeline's versions and the pipeline (KFP refuses to delete a pipeline that still has versions)."),
});

export type KubeflowDeployKwargs = z.infer<typeof KubeflowDeployKwargs>;
export type KubeflowStopKwargs = z.infer<typeof KubeflowStopKwargs>;
export type KubeflowSchedule = z.infer<typeof KubeflowSchedule>;

export interface KubeflowKwargs {
  package: z.infer<typeof PackageKwargs>;
  deploy: KubeflowDeployKwargs;
  run: z.infer<typeof RunKwargs>;
  stop: KubeflowStopKwargs;
}

export const KUBEFLOW_KWARGS: KwargsSchemas<KubeflowKwargs> = {
  package: PackageKwargs,
  deploy: KubeflowDeployKwargs,
  run: RunKwargs,
  stop: KubeflowStopKwargs,
};
