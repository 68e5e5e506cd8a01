import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeApi } from '../../src/kubernetes/client.js';
import { loadKubeconfig } from '../../src/kubernetes/kubeconfig.js';
import { podResources } from '../../src/kubernetes/pod-resources.js';
import { deploymentProblem, waitForRollout, type Pod } from '../../src/kubernetes/rollout.js';
import { MemoryLogger } from '../../src/logger.js';
import { tempDir } from '../helpers/services.js';

/** A Deployment stuck at 0 ready, whose one pod is `pod`; logs answer `log`. */
function stuck(pod: Pod, log = ''): KubeApi & { paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    apply: async (o) => o,
    mergePatch: async () => true,
    delete: async () => true,
    async get<T>(p: string) {
      paths.push(p);
      if (p.includes('/pods?')) return { items: [pod] } as T;
      return { metadata: { generation: 2 }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } } }, status: { observedGeneration: 2, replicas: 1 } } as T;
    },
    async text(p: string) {
      paths.push(p);
      return log;
    },
  };
}

const pod = (status: Pod['status']): Pod => ({ metadata: { name: 'web-1', namespace: 'ml' }, status });
const wait = (api: KubeApi, timeoutMs = 60_000) => waitForRollout(api, 'ml', 'web', { timeoutMs, intervalMs: 1, logger: new MemoryLogger() });

describe('after a rollout: a pod that stopped running since', () => {
  it('a container that looked ready for a moment, then crashed: the pod reason with its log tail', async () => {
    const api = stuck(
      pod({ containerStatuses: [{ name: 'flow', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }, lastState: { terminated: { exitCode: 1 } } }] }),
      'prefect.exceptions: cannot reach http://10.0.0.1:4200/api\n',
    );
    expect(await deploymentProblem(api, 'ml', 'web')).toBe(
      'Deployment ml/web rolled out, then failed: pod web-1, container flow: CrashLoopBackOff: back-off 10s (last exit code 1); its last log lines:\nprefect.exceptions: cannot reach http://10.0.0.1:4200/api',
    );
  });

  it('a container the kubelet shows terminated between restarts (as 1.37 did, not CrashLoopBackOff): the same crash loop, with the log of that run', async () => {
    const api = stuck(
      pod({ phase: 'Running', containerStatuses: [{ name: 'flow', restartCount: 2, state: { terminated: { exitCode: 3, reason: 'Error' } }, lastState: { terminated: { exitCode: 3 } } }] }),
      'loading model\nno model.pkl here\n',
    );
    expect(await deploymentProblem(api, 'ml', 'web')).toBe(
      'Deployment ml/web rolled out, then failed: pod web-1, container flow: keeps crashing: Error (last exit code 3, restarted 2 times); its last log lines:\nloading model\nno model.pkl here',
    );
    expect(api.paths.at(-1)).toBe('/api/v1/namespaces/ml/pods/web-1/log?container=flow&previous=false&tailLines=15&limitBytes=16384');
  });

  it('a container that ended non-zero and was never restarted (a Job pod) is not a crash loop here', async () => {
    const api = stuck(pod({ phase: 'Failed', containerStatuses: [{ name: 'flow', restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] }));
    expect(await deploymentProblem(api, 'ml', 'web')).toBeUndefined();
  });

  it('a pod that runs: no problem', async () => {
    expect(await deploymentProblem(stuck(pod({ phase: 'Running', containerStatuses: [{ name: 'flow' }] })), 'ml', 'web')).toBeUndefined();
  });
});

describe('waiting for a rollout: the pod reason, at once', () => {
  it('an image that cannot be pulled', async () => {
    const api = stuck(pod({ containerStatuses: [{ name: 'flow', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "r/x:1"' } } }] }));
    await expect(wait(api)).rejects.toThrow('Deployment ml/web did not roll out: pod web-1, container flow: ImagePullBackOff: Back-off pulling image "r/x:1"');
    expect(api.paths).toContain('/api/v1/namespaces/ml/pods?labelSelector=app%3Dweb');
  });

  it('a container that keeps crashing, with its exit code and the last lines of its previous log', async () => {
    const api = stuck(
      pod({ containerStatuses: [{ name: 'flow', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }, lastState: { terminated: { exitCode: 3 } } }] }),
      'Traceback (most recent call last):\nModuleNotFoundError: No module named runner\n',
    );
    await expect(wait(api)).rejects.toThrow(
      'pod web-1, container flow: CrashLoopBackOff: back-off 10s (last exit code 3); its last log lines:\nTraceback (most recent call last):\nModuleNotFoundError: No module named runner',
    );
    expect(api.paths.at(-1)).toBe('/api/v1/namespaces/ml/pods/web-1/log?container=flow&previous=true&tailLines=15&limitBytes=16384');
  });

  it('a pod no node can take (a GPU on a cluster without one) is reported, not waited out', async () => {
    const api = stuck(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.' }] }));
    await expect(wait(api)).rejects.toThrow('pod web-1 is Pending, Unschedulable: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu.');
  });

  it('a pod still starting is waited for, up to the timeout, which says where it stood', async () => {
    const api = stuck(pod({ phase: 'Pending', containerStatuses: [{ name: 'flow', state: { waiting: { reason: 'ContainerCreating' } } }] }));
    await expect(wait(api, 20)).rejects.toThrow('Deployment ml/web did not roll out within 0 s (0 updated, 0 ready, 0 available of 1; web-1 Pending)');
  });
});

describe('kubeconfig', () => {
  it("the current context's server, CA (relative to the file) and token", () => {
    const dir = tempDir('kubeconfig');
    writeFileSync(path.join(dir, 'ca.crt'), 'CA');
    const file = path.join(dir, 'config');
    writeFileSync(
      file,
      'current-context: b\ncontexts: [{name: a, context: {cluster: a}}, {name: b, context: {cluster: b, user: u}}]\n' +
        'clusters: [{name: a, cluster: {server: "https://a"}}, {name: b, cluster: {server: "https://b:6443/", certificate-authority: ca.crt}}]\n' +
        'users: [{name: u, user: {token: t0k}}]\n',
    );
    const access = loadKubeconfig(file);
    expect({ ...access, ca: access.ca?.toString() }).toEqual({ server: 'https://b:6443', source: `${file} (context b)`, ca: 'CA', insecure: false, token: 't0k', cert: undefined, key: undefined });
  });

  it('a credential plugin is refused by name, not silently dropped', () => {
    const file = path.join(tempDir('kubeconfig'), 'config');
    writeFileSync(file, 'current-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "https://c"}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\n');
    expect(() => loadKubeconfig(file)).toThrow(`kubeconfig ${file}: users[u].user.exec is not supported; use a token (e.g. a ServiceAccount's) or a client certificate`);
  });
});

describe('deploy.resources on a pod', () => {
  it('every key in its Kubernetes form', () => {
    expect(
      podResources({
        cpu: { request: '500m', limit: '2' },
        memory: { request: '1Gi', limit: undefined },
        gpu: { count: 1, resource: 'nvidia.com/gpu' },
        node_selector: { pool: 'gpu' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule', toleration_seconds: 30 }],
        service_account: 'trainer',
        env_from_secrets: { TOKEN: { secret: 'mlflow', key: 'token' } },
      }),
    ).toEqual({
      container: {
        resources: { requests: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' }, limits: { cpu: '2', 'nvidia.com/gpu': '1' } },
        env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'mlflow', key: 'token' } } }],
      },
      pod: {
        nodeSelector: { pool: 'gpu' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }],
        serviceAccountName: 'trainer',
      },
    });
  });
});
