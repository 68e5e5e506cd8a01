import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a stand-in server received it. */
export interface Received {
  method: string;
  url: string;
  authorization?: string;
  body: string;
}

export interface StandIn {
  /** http://127.0.0.1:<port> */
  url: string;
  received: Received[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A server on 127.0.0.1 that records every request (with its body) before `handle` answers it. */
export async function standIn(handle: Handler): Promise<StandIn> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A server that answers every request `status` with a Location on `target` (same path, then `query`), as a hostile server would. */
export function redirectEverything(target: () => string, status = 307, query = ''): Handler {
  return (req, res) => {
    res.writeHead(status, { location: `${target()}${req.url}${query}` });
    res.end();
  };
}

/** A recorder that answers 404 to everything: the origin a redirect points to. */
export const notFound: Handler = (_req, res) => json(res, 404, { detail: 'Not Found' });

/**
 * Just enough of a Prefect 3 server for `deploy,run` with a process work pool: the
 * version, the pool, the flow, the deployment and its flow run. `expectedAuth`: the
 * Authorization every request must carry (401 otherwise).
 */
export function prefect(expectedAuth?: string): Handler {
  return (req, res, body) => {
    if (expectedAuth && req.headers.authorization !== expectedAuth) return json(res, 401, { detail: 'Unauthorized' });
    const path = (req.url ?? '').split('?')[0]!;
    const route = `${req.method} ${path}`;
    if (route === 'GET /api/admin/version') return json(res, 200, '3.8.8');
    if (req.method === 'GET' && path.startsWith('/api/work_pools/')) return json(res, 200, { name: decodeURIComponent(path.split('/').pop()!), type: 'process' });
    if (route === 'POST /api/flows/') return json(res, 201, { id: 'flow-1', name: (JSON.parse(body) as { name: string }).name });
    if (route === 'POST /api/deployments/') {
      const sent = JSON.parse(body) as { name: string; work_pool_name?: string };
      return json(res, 201, { id: 'deployment-1', name: sent.name, flow_id: 'flow-1', work_pool_name: sent.work_pool_name ?? null });
    }
    if (route === 'POST /api/flow_runs/filter') return json(res, 200, []);
    if (route === 'POST /api/deployments/deployment-1/create_flow_run') {
      return json(res, 201, { id: 'run-1', name: 'brave-otter', state: { type: 'SCHEDULED', name: 'Scheduled' }, deployment_id: 'deployment-1' });
    }
    return json(res, 404, { detail: 'Not Found' });
  };
}

/**
 * Just enough of an Airflow 3 API server for the `run` step: the version, a login that
 * accepts `username`/`password` only, the DAG (unpaused) and a trigger.
 */
export function airflow(username: string, password: string): Handler {
  return (req, res, body) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && path === '/api/v2/version') return json(res, 200, { version: '3.3.2' });
    if (req.method === 'POST' && path === '/auth/token') {
      const sent = JSON.parse(body || '{}') as { username?: string; password?: string };
      if (sent.username === username && sent.password === password) return json(res, 201, { access_token: 'jwt-from-the-stand-in' });
      return json(res, 401, { detail: 'Invalid credentials' });
    }
    if (req.headers.authorization !== 'Bearer jwt-from-the-stand-in') return json(res, 401, { detail: 'Not authenticated' });
    const dag = /^\/api\/v2\/dags\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && dag) return json(res, 200, { dag_id: decodeURIComponent(dag[1]!), is_paused: false, tags: [] });
    const trigger = /^\/api\/v2\/dags\/([^/]+)\/dagRuns$/.exec(path);
    if (req.method === 'POST' && trigger) {
      const sent = JSON.parse(body) as { dag_run_id?: string; conf?: Record<string, unknown> };
      return json(res, 200, { dag_run_id: sent.dag_run_id ?? 'manual__1', dag_id: decodeURIComponent(trigger[1]!), state: 'queued', conf: sent.conf ?? {} });
    }
    return json(res, 404, { detail: 'Not Found' });
  };
}

/** A Prefect workflow for `deploy,run` on a process work pool: no image, no build. */
export function prefectYaml(name: string): string {
  return `
decorator:
  orchestrator: PrefectOrchestrator
orchestrator:
  deployment:
    name: ${name}
    deploy:
      work_pool: process-pool
      flow_entrypoint: flows.py:hello
      pull_steps:
        - prefect.deployments.steps.set_working_directory: {directory: /tmp}
`;
}
