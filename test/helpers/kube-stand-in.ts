import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './services.js';

export interface KubeRequest {
  method: string;
  path: string;
  body?: Record<string, unknown>;
}

const ROLLED_OUT = { metadata: { generation: 1 }, spec: { replicas: 1, selector: { matchLabels: {} } }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } };

/** An apply returns what was sent; a Deployment is rolled out; a list is empty. */
function answer(method: string, url: string, body: string): string {
  if (method === 'PATCH') return body;
  if (method === 'GET' && /\/deployments\/[^/?]+$/.test(url.split('?')[0]!)) return JSON.stringify(ROLLED_OUT);
  if (method === 'GET') return JSON.stringify({ items: [] });
  return '{}';
}

/**
 * A Kubernetes API stand-in on 127.0.0.1 for unit tests of what is sent: it records every
 * request, accepts every apply, and reports every Deployment rolled out. What a real
 * server refuses or how pods fare is tested against the real cluster (*.itg.test.ts).
 */
export async function kubeStandIn(): Promise<{ kubeconfig: string; requests: KubeRequest[]; close: () => Promise<void> }> {
  const requests: KubeRequest[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      requests.push({ method: req.method!, path: req.url!, body });
      res.setHeader('content-type', 'application/json');
      res.end(answer(req.method!, req.url!, text));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = path.join(tempDir('kubeconfig'), 'config');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: t, user: t}}]\nclusters: [{name: t, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: t, user: {token: stand-in}}]\n`,
  );
  return { kubeconfig, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
