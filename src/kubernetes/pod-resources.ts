import type { Resources } from '../config/resources.js';

/** The parts of a pod spec `deploy.resources` sets. */
export interface PodResources {
  /** Container fields: `resources` (requests/limits) and `env` entries from Secrets. */
  container: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> }; env?: Array<Record<string, unknown>> };
  /** Pod spec fields: nodeSelector, tolerations, serviceAccountName. */
  pod: Record<string, unknown>;
}

/**
 * deploy.resources in a Kubernetes pod spec's own form. A GPU is requested as its extended
 * resource (limit = request = count, as Kubernetes requires for extended resources); an
 * `accelerator` becomes no node selector here (name it in node_selector, your cluster's label).
 */
export function podResources(resources: Resources | undefined): PodResources {
  const out: PodResources = { container: {}, pod: {} };
  if (!resources) return out;
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  for (const key of ['cpu', 'memory'] as const) {
    const value = resources[key];
    if (value?.request) requests[key] = value.request;
    if (value?.limit) limits[key] = value.limit;
  }
  if (resources.gpu) {
    requests[resources.gpu.resource] = String(resources.gpu.count);
    limits[resources.gpu.resource] = String(resources.gpu.count);
  }
  if (Object.keys(requests).length || Object.keys(limits).length) {
    out.container.resources = { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
  }
  if (resources.env_from_secrets) {
    out.container.env = Object.entries(resources.env_from_secrets).map(([name, ref]) => ({
      name,
      valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } },
    }));
  }
  if (resources.node_selector) out.pod.nodeSelector = resources.node_selector;
  if (resources.tolerations) {
    out.pod.tolerations = resources.tolerations.map(({ toleration_seconds, ...rest }) => ({
      ...rest,
      ...(toleration_seconds !== undefined ? { tolerationSeconds: toleration_seconds } : {}),
    }));
  }
  if (resources.service_account) out.pod.serviceAccountName = resources.service_account;
  return out;
}
