import { KubernetesClient } from '../../src/kubernetes/client.js';
import { loadKubeconfig } from '../../src/kubernetes/kubeconfig.js';
import { MemoryLogger } from '../../src/logger.js';
import { service } from '../helpers/services.js';

/** What scripts/k8s-services.sh started; undefined on a laptop without it (a failure under REQUIRE_SERVICES=1). */
export function k8sServices() {
  const kubeconfig = service('LOLPOP_TEST_KUBECONFIG');
  const nodeAddress = service('LOLPOP_TEST_K8S_NODE_ADDRESS');
  if (!kubeconfig || !nodeAddress) return undefined;
  return { kubeconfig, nodeAddress, client: new KubernetesClient(loadKubeconfig(kubeconfig), new MemoryLogger()) };
}

export interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  spec: {
    containers: Array<{ image: string; resources?: Record<string, Record<string, string>>; env?: Array<{ name: string }> }>;
    nodeSelector?: Record<string, string>;
    tolerations?: Array<Record<string, unknown>>;
    imagePullSecrets?: Array<{ name: string }>;
  };
  status: { phase: string };
}

/** `kubectl get pods -l <labels> -o json` over the API: the pods of one Deployment, as the server has them. */
export async function podsOf(client: KubernetesClient, namespace: string, deployment: string): Promise<PodJson[]> {
  const list = await client.get<{ items: PodJson[] }>(
    `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(`app.kubernetes.io/name=${deployment}`)}`,
  );
  return (list?.items ?? []).filter((p) => !p.metadata.deletionTimestamp);
}

/** A namespace of the test's own (a throwaway cluster: removed by the controller-manager afterwards). */
export async function createNamespace(client: KubernetesClient, name: string): Promise<void> {
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}
