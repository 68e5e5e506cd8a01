import { execFileSync } from 'node:child_process';
import { KubernetesClient } from '../../src/kubernetes/client.js';
import { loadKubeconfig } from '../../src/kubernetes/kubeconfig.js';
import { MemoryLogger } from '../../src/logger.js';
import { service, tempDir } from '../helpers/services.js';

/** What scripts/k8s-services.sh started; undefined on a laptop without it (a failure under REQUIRE_SERVICES=1). */
export function k8sServices() {
  const kubeconfig = service('LOLPOP_TEST_KUBECONFIG');
  const nodeAddress = service('LOLPOP_TEST_K8S_NODE_ADDRESS');
  const kubectl = service('LOLPOP_TEST_KUBECTL');
  if (!kubeconfig || !nodeAddress || !kubectl) return undefined;
  return { kubeconfig, nodeAddress, kubectl, client: new KubernetesClient(loadKubeconfig(kubeconfig), new MemoryLogger()) };
}

export interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  spec: {
    containers: Array<{ image: string; resources?: Record<string, Record<string, string>>; env?: Array<{ name: string }> }>;
    nodeSelector?: Record<string, string>;
    tolerations?: Array<Record<string, unknown>>;
    imagePullSecrets?: Array<{ name: string }>;
    serviceAccountName?: string;
  };
  status: { phase: string; containerStatuses?: Array<{ name: string; state: { waiting?: { reason?: string } } }> };
}

/**
 * `kubectl get pods -l app.kubernetes.io/name=<deployment> -o json` with the cluster's own
 * kubectl: the pods of one Deployment as the server has them (terminating ones left out).
 */
export function podsOf(cluster: { kubeconfig: string; kubectl: string }, namespace: string, deployment: string): PodJson[] {
  const out = execFileSync(cluster.kubectl, ['get', 'pods', '-n', namespace, '-l', `app.kubernetes.io/name=${deployment}`, '-o', 'json'], {
    // kubectl's discovery cache would otherwise go to ~/.kube/cache.
    env: { PATH: process.env.PATH, KUBECONFIG: cluster.kubeconfig, KUBECACHEDIR: tempDir('kubectl-cache') },
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { items: PodJson[] }).items.filter((p) => !p.metadata.deletionTimestamp);
}

/** A namespace of the test's own (a throwaway cluster: removed by the controller-manager afterwards). */
export async function createNamespace(client: KubernetesClient, name: string): Promise<void> {
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}
