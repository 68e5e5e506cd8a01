import { createHash } from 'node:crypto';
import { runParameters, type ResolvedDeployment } from '../../deployment.js';
import { OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { SECRET_BLOCKS_PARAMETER } from '../../packaging/entrypoint.js';
import { REDACTED } from '../../secret-parameters.js';
import type { PlannedRequest } from '../orchestrator.js';
import type { PrefectApi } from './api.js';

/**
 * run.secret_parameters on Prefect: each value goes to a Secret block of its own, and the
 * deployment and flow-run parameters carry only the blocks' names (under the generated
 * flow's SECRET_BLOCKS_PARAMETER), which the flow loads when it runs.
 */

type Deployment = Pick<ResolvedDeployment, 'name' | 'flowName' | 'ownFlow' | 'entrypoint' | 'secretParameters'>;

/**
 * `lolpop-<deployment>-<parameter>-<hash>`: Prefect allows lowercase letters, digits and
 * dashes in block names; the hash of the exact flow, deployment and parameter names keeps
 * names apart that read the same once lowercased.
 */
export function secretBlockName(d: Pick<Deployment, 'name' | 'flowName'>, parameter: string): string {
  const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const hash = createHash('sha256').update(`${d.flowName}\0${d.name}\0${parameter}`).digest('hex').slice(0, 8);
  return ['lolpop', slug(d.name), slug(parameter), hash].filter(Boolean).join('-');
}

/**
 * The parameters Prefect gets for `parameters`: nested for the generated flow, with the
 * secret parameters' block names beside them. Refused for the user's own flow, which
 * would get block names where it expects values.
 */
export function prefectParameters(d: Deployment, parameters: Record<string, unknown>): Record<string, unknown> {
  const names = Object.keys(d.secretParameters);
  if (names.length === 0) return runParameters(d, parameters);
  refuseOwnFlowSecrets(d);
  const blocks = Object.fromEntries(names.map((name) => [name, secretBlockName(d, name)]));
  return { ...runParameters(d, parameters), [SECRET_BLOCKS_PARAMETER]: blocks };
}

/** Secret parameters need the generated flow, which loads their blocks: refused for the user's own flow. */
export function refuseOwnFlowSecrets(d: Deployment): void {
  const names = Object.keys(d.secretParameters);
  if (names.length === 0 || !d.ownFlow) return;
  throw new OrchestratorError(
    `run.secret_parameters (${names.join(', ')}): on Prefect they reach the flow through the generated prefect_files/run.py, ` +
      `which loads them from Secret blocks; your own flow ${d.entrypoint} would not. Load the secrets in your flow ` +
      `(prefect.blocks.system.Secret.load(...).get()) and remove run.secret_parameters`,
  );
}

/** Writes each secret parameter's value into its Secret block (created or replaced). */
export async function writeSecretBlocks(api: PrefectApi, d: Deployment, logger: Logger): Promise<void> {
  for (const [name, value] of Object.entries(d.secretParameters)) {
    const block = secretBlockName(d, name);
    const done = await api.upsertSecretBlock(block, value);
    logger.info(`Secret parameter ${name}: ${done} Prefect Secret block ${block}`);
  }
}

/** Deletes the secret parameters' blocks (stop's delete mode); what was deleted, as a detail, or undefined for none. */
export async function deleteSecretBlocks(api: PrefectApi, d: Deployment): Promise<string | undefined> {
  const deleted: string[] = [];
  for (const name of Object.keys(d.secretParameters)) {
    const block = secretBlockName(d, name);
    if (await api.deleteSecretBlock(block)) deleted.push(block);
  }
  return deleted.length > 0 ? `deleted Secret block${deleted.length > 1 ? 's' : ''} ${deleted.join(', ')}` : undefined;
}

/** The block documents writeSecretBlocks would write (a PATCH where one exists), as plan shows them: values as ***. */
export function plannedSecretBlocks(d: Deployment, api: string): PlannedRequest[] {
  return Object.keys(d.secretParameters).map((name) => ({
    method: 'POST',
    url: `${api}/block_documents/`,
    body: { name: secretBlockName(d, name), data: { value: REDACTED } },
  }));
}
