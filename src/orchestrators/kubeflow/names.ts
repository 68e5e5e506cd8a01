import { createHash } from 'node:crypto';
import { ConfigError } from '../../errors.js';

/** Where a KFP deployment lives, decided once when the deployment is resolved (the plugin's target()). */
export interface KubeflowTarget {
  /** The pipeline's name and display name: the deployment's name as the kfp SDK allows it. */
  pipeline: string;
}

/**
 * The pipeline name for a deployment: lower case, anything but letters, digits and `-`
 * turned into `-`, at most 128 characters: the kfp SDK's rule (`^[a-z0-9][a-z0-9-]{0,127}$`,
 * kfp/dsl/utils.py), which the server's own looser check also accepts.
 */
export function pipelineNameFor(deploymentName: string): string {
  const name = deploymentName
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 128);
  if (name === '') throw new ConfigError(`Invalid deployment name '${deploymentName}'. Expected letters or digits, e.g. lolpop-quickstart.`);
  return name;
}

/**
 * A version's name: the pipeline's and the hash of the IR it holds. Deploying the same
 * content finds this name and creates nothing; other content gets a version of its own.
 */
export function versionNameFor(pipeline: string, ir: string): string {
  return `${pipeline}-${sha256(ir).slice(0, 12)}`;
}

/**
 * A run's display name. KFP has no idempotency key, so with one (a workflow run attempt)
 * the name is derived from it and run looks it up before creating: a retried step finds
 * its run. Without one, every run is new.
 */
export function runNameFor(pipeline: string, idempotencyKey: string | undefined, now: Date): string {
  if (idempotencyKey) return `${pipeline}-run-${sha256(idempotencyKey).slice(0, 12)}`;
  return `${pipeline}-run-${now.toISOString().replace(/[:.]/g, '-')}`;
}

/** The recurring run of a deployment: one per pipeline, replaced when its version changes. */
export function recurringRunNameFor(pipeline: string): string {
  return `${pipeline}-schedule`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
