import type { Logger } from '../../logger.js';
import { secretParameterVariables } from '../../packaging/launcher.js';
import { REDACTED } from '../../secret-parameters.js';
import type { PlannedRequest } from '../orchestrator.js';
import type { AirflowApi } from './api.js';
import { sha256 } from './names.js';

/**
 * run.secret_parameters on Airflow: each value goes to an Airflow Variable of its own, whose
 * key contains "secret" so Airflow masks its value in task logs and rendered fields. The
 * DAG file and the release hold only the keys: the task's environment reads each Variable
 * when the run starts (`{{ var.value.get(key) }}`), and the launcher takes the secret
 * parameters from that environment.
 */

/** A secret parameter as the DAG delivers it: the launcher's environment variable and the Variable's key. */
export interface SecretVariable {
  parameter: string;
  /** LOLPOP_DEPLOY_SECRET_<n>, as the release's launch spec names it. */
  env: string;
  key: string;
}

/**
 * `lolpop_secret__<dag_id>__<parameter>__<hash>`: letters, digits, `_`, `.` and `-` only
 * (safe in a URL path and inside the Jinja string that reads it); the hash of the exact
 * parameter name keeps names apart that read the same once cleaned.
 */
export function secretVariableKey(dagId: string, parameter: string): string {
  const clean = parameter.replace(/[^A-Za-z0-9_.-]+/g, '_');
  return `lolpop_secret__${dagId}__${clean}__${sha256(`${dagId}\0${parameter}`).slice(0, 8)}`;
}

/** The secret parameters of a deployment, in the launch spec's order. */
export function secretVariables(dagId: string, secretParameters: Record<string, string>): SecretVariable[] {
  return Object.entries(secretParameterVariables(Object.keys(secretParameters))).map(([parameter, env]) => ({
    parameter,
    env,
    key: secretVariableKey(dagId, parameter),
  }));
}

/** Writes each secret parameter's value into its Variable (created or replaced). */
export async function writeSecretVariables(api: AirflowApi, dagId: string, secretParameters: Record<string, string>, logger: Logger): Promise<void> {
  for (const variable of secretVariables(dagId, secretParameters)) {
    const done = await api.upsertVariable(variable.key, secretParameters[variable.parameter]!);
    logger.info(`Secret parameter ${variable.parameter}: ${done} Airflow Variable ${variable.key}`);
  }
}

/** Deletes the secret parameters' Variables (stop's delete mode); what was deleted, as a detail, or undefined for none. */
export async function deleteSecretVariables(api: AirflowApi, dagId: string, secretParameters: Record<string, string>): Promise<string | undefined> {
  const deleted: string[] = [];
  for (const { key } of secretVariables(dagId, secretParameters)) if (await api.deleteVariable(key)) deleted.push(key);
  return deleted.length > 0 ? `deleted Variable${deleted.length > 1 ? 's' : ''} ${deleted.join(', ')}` : undefined;
}

/** The Variable writes as plan shows them: values as ***. */
export function plannedSecretVariables(rest: string, dagId: string, secretParameters: Record<string, string>): PlannedRequest[] {
  return secretVariables(dagId, secretParameters).map(({ key }) => ({
    method: 'PATCH',
    url: `${rest}/variables/${key}`,
    body: { key, value: REDACTED },
  }));
}
