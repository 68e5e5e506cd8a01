import { createHash } from 'node:crypto';
import { ConfigError } from '../../errors.js';

/** Tag prefix that carries the deploy fingerprint, so deploy knows Airflow parsed *this* version. */
export const FINGERPRINT_TAG = 'lolpop-deploy:';

/** Where an Airflow deployment lives, decided once when the deployment is resolved (the plugin's target()). */
export interface AirflowTarget {
  dagId: string;
}

/**
 * The DAG id for a deployment: its name with anything Airflow refuses in a dag_id
 * (only letters, digits, `-`, `.` and `_` are allowed) turned into `_`.
 */
export function dagIdFor(deploymentName: string): string {
  const id = deploymentName.trim().replace(/[^A-Za-z0-9_.-]/g, '_');
  if (id === '' || /^[._-]+$/.test(id)) {
    throw new ConfigError(`Invalid deployment name '${deploymentName}'. Expected letters or digits, e.g. lolpop-quickstart.`);
  }
  return id.slice(0, 200);
}

/**
 * A dag_run_id from an idempotency key: Airflow allows `^[A-Za-z0-9_.~:+-]+$`, so other
 * characters become `~`, and a hash of the whole key keeps two keys that differ only
 * in those characters (or beyond the length cut) apart. The same key gives the same id,
 * which is what lets a retried step find its run.
 */
export function runIdFor(idempotencyKey: string): string {
  const readable = idempotencyKey.replace(/[^A-Za-z0-9_.~:+-]/g, '~').slice(0, 200);
  return `${readable}~${sha256(idempotencyKey).slice(0, 10)}`;
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
