import { OrchestratorError } from '../errors.js';
import type { Logger } from '../logger.js';
import { collectionPath, type KubeApi } from './client.js';

/** Container states that will not heal by waiting: the rollout fails at once with the pod's reason. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'CrashLoopBackOff',
]);
/** Lines of a crashing container's previous log shown in the error. */
const LOG_TAIL_LINES = 15;

interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode?: number; reason?: string; message?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

export interface Pod {
  metadata: { name: string; namespace: string; deletionTimestamp?: string };
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

interface DeploymentStatus {
  metadata: { generation?: number };
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> } };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
}

/** The pods a label selector matches, newest last. */
export async function listPods(client: KubeApi, namespace: string, labels: Record<string, string>): Promise<Pod[]> {
  const selector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  const list = await client.get<{ items: Pod[] }>(`${collectionPath('Pod', namespace)}?labelSelector=${encodeURIComponent(selector)}`);
  return list?.items ?? [];
}

/**
 * Why a pod cannot become ready, in the pod's own words, or undefined while it may still:
 * an image that cannot be pulled, a container that keeps crashing (with its last log
 * lines), a pod no node can take (e.g. a GPU on a cluster without one).
 */
export async function podProblem(client: KubeApi, pod: Pod): Promise<string | undefined> {
  const name = `pod ${pod.metadata.name}`;
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable) return `${name} is Pending, Unschedulable: ${unschedulable.message ?? 'no node can run it'}`;
  for (const container of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const crashed = container.state?.terminated;
    // Between restarts the kubelet may report the crashed container as terminated rather
    // than waiting in CrashLoopBackOff (observed on 1.37: for minutes): a non-zero exit
    // after a restart is the same crash loop. A Job's pod (restartPolicy Never) never gets here.
    if (crashed && (crashed.exitCode ?? 0) !== 0 && (container.restartCount ?? 0) >= 1) {
      const restarts = `restarted ${container.restartCount} time${container.restartCount === 1 ? '' : 's'}`;
      return `${name}, container ${container.name}: keeps crashing: ${crashed.reason ?? 'Terminated'} (last exit code ${crashed.exitCode}, ${restarts}); its last log lines:\n${await logTail(client, pod, container.name, false)}`;
    }
    const waiting = container.state?.waiting;
    if (!waiting?.reason || !FATAL_WAITING.has(waiting.reason)) continue;
    const head = `${name}, container ${container.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
    if (waiting.reason !== 'CrashLoopBackOff') return head;
    const exit = container.lastState?.terminated;
    return `${head}${exit ? ` (last exit code ${exit.exitCode})` : ''}; its last log lines:\n${await logTail(client, pod, container.name)}`;
  }
  return undefined;
}

/** A container's last lines (by default the previous, crashed one's), or why they could not be read. */
export async function logTail(client: KubeApi, pod: Pod, container: string, previous = true): Promise<string> {
  const query = new URLSearchParams({ container, previous: String(previous), tailLines: String(LOG_TAIL_LINES), limitBytes: '16384' });
  try {
    const text = await client.text(`${collectionPath('Pod', pod.metadata.namespace)}/${encodeURIComponent(pod.metadata.name)}/log?${query}`);
    return text.trimEnd() || '(the container wrote nothing)';
  } catch (error) {
    return `(its log could not be read: ${(error as Error).message})`;
  }
}

/** The first reason one of these pods gives for not running (see podProblem), or undefined. */
async function firstProblem(client: KubeApi, pods: Pod[]): Promise<string | undefined> {
  for (const pod of pods) {
    const problem = await podProblem(client, pod);
    if (problem) return problem;
  }
  return undefined;
}

/** The Deployment's pods that are not being deleted. */
async function livePods(client: KubeApi, namespace: string, deployment: DeploymentStatus): Promise<Pod[]> {
  return (await listPods(client, namespace, deployment.spec.selector.matchLabels ?? {})).filter((p) => !p.metadata.deletionTimestamp);
}

/**
 * After a rollout: why one of the Deployment's pods has stopped running since, or undefined.
 * A container that exits at once can look ready for a moment, long enough for the rollout
 * to count it; what it serves is awaited next, and this is asked while waiting.
 */
export async function deploymentProblem(client: KubeApi, namespace: string, name: string): Promise<string | undefined> {
  const deployment = await client.get<DeploymentStatus>(`${collectionPath('Deployment', namespace)}/${encodeURIComponent(name)}`);
  if (!deployment) return `Deployment ${namespace}/${name} disappeared after its rollout`;
  const problem = await firstProblem(client, await livePods(client, namespace, deployment));
  return problem ? `Deployment ${namespace}/${name} rolled out, then failed: ${problem}` : undefined;
}

/**
 * Waits until the Deployment's rollout is complete (every replica updated, ready and
 * available, no old pod left), failing as soon as a pod shows a reason it will not get
 * there, and at `timeoutMs` with where it stood and the pods' states.
 */
export async function waitForRollout(
  client: KubeApi,
  namespace: string,
  name: string,
  options: { timeoutMs: number; intervalMs?: number; logger: Logger },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const path = `${collectionPath('Deployment', namespace)}/${encodeURIComponent(name)}`;
  let said = '';
  for (;;) {
    const deployment = await client.get<DeploymentStatus>(path);
    if (!deployment) throw new OrchestratorError(`Deployment ${namespace}/${name} disappeared while its rollout was awaited`);
    const desired = deployment.spec.replicas ?? 1;
    const s = deployment.status ?? {};
    const counts = `${s.updatedReplicas ?? 0} updated, ${s.readyReplicas ?? 0} ready, ${s.availableReplicas ?? 0} available of ${desired}`;
    const done =
      (s.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 1) &&
      (s.updatedReplicas ?? 0) === desired &&
      (s.readyReplicas ?? 0) === desired &&
      (s.availableReplicas ?? 0) === desired &&
      (s.replicas ?? 0) === desired;
    if (done) {
      options.logger.info(`Deployment ${namespace}/${name} rolled out: ${counts}`);
      return;
    }
    const pods = await livePods(client, namespace, deployment);
    const problem = await firstProblem(client, pods);
    if (problem) throw new OrchestratorError(`Deployment ${namespace}/${name} did not roll out: ${problem}`);
    if (counts !== said) options.logger.info(`Deployment ${namespace}/${name}: ${counts}`);
    said = counts;
    if (Date.now() >= deadline) {
      const states = pods.map((p) => `${p.metadata.name} ${p.status?.phase ?? 'unknown'}`).join(', ') || 'no pods';
      throw new OrchestratorError(`Deployment ${namespace}/${name} did not roll out within ${Math.round(options.timeoutMs / 1000)} s (${counts}; ${states})`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 1000));
  }
}
