import { OrchestratorError } from '../../../errors.js';
import { describe, KubernetesClient } from '../../../kubernetes/client.js';
import { kubeconfigPath, loadKubeconfig } from '../../../kubernetes/kubeconfig.js';
import type { OrchestratorContext } from '../../orchestrator.js';
import type { PrefectConnection } from '../connection.js';
import { KubernetesDeployer, type KubernetesDeployInput } from './deployer.js';

/**
 * With a cluster configured (a kubeconfig), the plan of a kubernetes deploy: the objects it
 * would apply and the server's own dry-run verdict on them (nothing persisted). A refusal
 * fails the plan as it would fail deploy. Without one: nothing to add (an offline plan).
 */
export async function planKubernetes(ctx: OrchestratorContext, input: KubernetesDeployInput, connection: PrefectConnection): Promise<string[]> {
  const file = kubeconfigPath(ctx.env);
  if (!file) return ['no Kubernetes cluster configured (KUBECONFIG, ~/.kube/config): the objects are not checked by a server'];
  const client = new KubernetesClient(loadKubeconfig(file), ctx.logger);
  try {
    const deployer = new KubernetesDeployer(client, ctx.logger, ctx.workdir, connection, ctx.registry);
    const objects = deployer.objects(input);
    const refusals = await deployer.dryRun(objects);
    if (refusals.length > 0) throw new OrchestratorError(`Plan: the server's dry run (dryRun=All) at ${client.server} refuses, so deploy would fail: ${refusals.join('; ')}`);
    return [`server-side apply ${objects.map(describe).join(', ')}: the server's dry run (dryRun=All) at ${client.server} accepts them`];
  } finally {
    client.close();
  }
}
