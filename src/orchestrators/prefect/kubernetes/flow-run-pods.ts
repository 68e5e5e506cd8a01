import { collectionPath, type KubeApi } from '../../../kubernetes/client.js';
import { listPods, logTail, podProblem } from '../../../kubernetes/rollout.js';

/** A flow run's Job, as prefect-kubernetes records it. */
export interface FlowRunJob {
  namespace: string;
  job: string;
}

/**
 * DNS-1123 names, as a Job and its namespace have, after an optional cluster uid (the
 * kube-system namespace's UID, or the worker's PREFECT_KUBERNETES_CLUSTER_UID: no colon).
 */
const JOB_PID = /^(?:[^:\s]+:)?([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/**
 * The Job of a flow run on a kubernetes work pool: the worker sets the run's
 * infrastructure_pid once it created the Job, to `<namespace>:<job name>`
 * (prefect-kubernetes 0.8, Prefect 3) or `<cluster uid>:<namespace>:<job name>` (0.4, the
 * Prefect 2 line). The cluster uid is not checked: the runner's kubeconfig decides the cluster.
 */
export function flowRunJob(infrastructurePid: string | null | undefined): FlowRunJob | undefined {
  const match = infrastructurePid ? JOB_PID.exec(infrastructurePid) : null;
  return match ? { namespace: match[1]!, job: match[3]! } : undefined;
}

/** The label prefect-kubernetes puts on each flow run's Job (0.4 and 0.8 alike). */
const FLOW_RUN_LABEL = 'prefect.io/flow-run-id';

/**
 * Why the Job's pod cannot run or did not succeed, in the pod's own words: an image that
 * cannot be pulled, a pod no node can take (the rollout's reasons, kubernetes/rollout.ts),
 * or a container that ended with an error, with its last log lines. Undefined when its pods
 * show none of these (or there are none yet).
 */
export async function jobPodProblem(client: KubeApi, { namespace, job }: FlowRunJob): Promise<string | undefined> {
  // The Job controller labels its pods with the Job's name.
  const pods = (await listPods(client, namespace, { 'job-name': job })).filter((p) => !p.metadata.deletionTimestamp);
  for (const pod of pods) {
    const problem = await podProblem(client, pod);
    if (problem) return `Job ${namespace}/${job}: ${problem}`;
  }
  for (const pod of pods) {
    for (const container of pod.status?.containerStatuses ?? []) {
      const ended = container.state?.terminated;
      if (!ended || ended.exitCode === 0) continue;
      const tail = await logTail(client, pod, container.name, false);
      return (
        `Job ${namespace}/${job}: pod ${pod.metadata.name}, container ${container.name}: ${ended.reason ?? 'terminated'} (exit code ${ended.exitCode})` +
        `${ended.message ? `: ${ended.message.trim()}` : ''}; its last log lines:\n${tail}`
      );
    }
  }
  return undefined;
}

/**
 * Deletes a flow run's Job when its pod shows it will never start the flow (the reasons of
 * jobPodProblem: an image that cannot be pulled, no node for it, a container that exited
 * first), so no Prefect runner is there to honour a cancel. Measured on the CI cluster:
 * prefect-kubernetes 0.4.6 leaves such a Job and its CANCELLING run as they are for good
 * (it leaves cancels to the runner), 0.8.0 for the server's ~5 min cancellation timeout.
 * Returns what it did, or undefined (nothing shows, or no Job to delete) to leave it be.
 */
export async function deleteUnstartedJob(client: KubeApi, job: FlowRunJob, flowRunId: string): Promise<string | undefined> {
  // The infrastructure_pid names a Job, but the runner's kubeconfig may point at another
  // cluster than the worker's (the cluster uid is not compared): only a Job the worker
  // labelled with this very run is deleted, and only that object (its uid, checked by the server).
  const path = `${collectionPath('Job', job.namespace)}/${encodeURIComponent(job.job)}`;
  const found = await client.get<{ metadata: { uid?: string; labels?: Record<string, string> } }>(path);
  const uid = found?.metadata.uid;
  if (!uid || found.metadata.labels?.[FLOW_RUN_LABEL] !== flowRunId) return undefined;
  const problem = await jobPodProblem(client, job);
  if (!problem) return undefined;
  // Its pods go with it (background propagation): nothing of the run is left on the cluster.
  const deleted = await client.delete(path, uid);
  if (!deleted) return undefined;
  // Without the `Job ns/name: ` it starts with, and a crashed container's log lines (its first line says enough here).
  const why = problem.slice(`Job ${job.namespace}/${job.job}: `.length).split('\n')[0]!.replace(/; its last log lines:$/, '');
  return `deleted Job ${job.namespace}/${job.job}: its pod never started the flow (${why})`;
}
