import { createServer } from 'node:http';

// Stand-ins on loopback for the secrets-at-rest tests: they answer what the steps ask and
// record every request, so a test can look for a secret in everything a server was sent.

export interface Received {
  method: string;
  path: string;
  body: unknown;
}

/** A value as secrets come: quotes, a backslash, a newline and non-ASCII letters. */
export const SECRET = 'sk-"Zürich"\\9f\nline2-Ω';

/** The forms a secret could be stored in: as is, JSON-encoded, and a part of it. */
export const SECRET_FORMS = [SECRET, JSON.stringify(SECRET).slice(1, -1), 'Zürich'];

/** A Prefect 3.8.8 API with a process pool `pool`: what deploy and run need, Secret blocks included. */
export function standInPrefect() {
  const received: Received[] = [];
  const blocks = new Map<string, { id: string; value: unknown }>();
  let deployed: string | undefined;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as { name: string; data: { value: unknown } }) : undefined;
      const route = (req.url ?? '').replace(/^\/api/, '').split('?')[0]!;
      received.push({ method: req.method!, path: route, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const byName = /^\/block_types\/slug\/secret\/block_documents\/name\/([^/]+)$/.exec(route);
      const patch = /^\/block_documents\/([^/]+)$/.exec(route);
      if (route === '/admin/version') return json(200, '3.8.8');
      if (route === '/work_pools/pool') return json(200, { name: 'pool', type: 'process' });
      if (route === '/flows/') return json(201, { id: 'flow-1' });
      if (route === '/deployments/') {
        deployed = body!.name;
        return json(201, { id: 'dep-1', name: body!.name, flow_id: 'flow-1' });
      }
      if (route === '/deployments/dep-1/create_flow_run') return json(201, { id: 'run-1', name: 'brave-run', state: { type: 'SCHEDULED', name: 'Scheduled' } });
      if (byName) {
        const found = blocks.get(decodeURIComponent(byName[1]!));
        return found ? json(200, { id: found.id, data: { value: '********' } }) : json(404, { detail: 'Block document not found' });
      }
      if (route === '/block_types/slug/secret') return json(200, { id: 'secret-type' });
      if (route === '/block_schemas/filter') return json(200, [{ id: 'secret-schema' }]);
      if (route === '/block_documents/' && req.method === 'POST') {
        const id = `doc-${blocks.size}`;
        blocks.set(body!.name, { id, value: body!.data.value });
        return json(201, { id });
      }
      if (patch && (req.method === 'PATCH' || req.method === 'DELETE')) {
        const entry = [...blocks.entries()].find(([, b]) => b.id === patch[1]);
        if (!entry) return json(404, { detail: 'Block document not found' });
        if (req.method === 'PATCH') entry[1].value = body!.data.value;
        else blocks.delete(entry[0]);
        res.writeHead(204).end();
        return;
      }
      // stop: the deployment deploy created, paused, then deleted.
      if (route.startsWith('/deployments/name/')) {
        return deployed ? json(200, { id: 'dep-1', name: deployed, flow_id: 'flow-1', paused: false }) : json(404, { detail: 'Deployment not found' });
      }
      if (route === '/deployments/dep-1' && (req.method === 'PATCH' || req.method === 'DELETE')) {
        if (req.method === 'DELETE') deployed = undefined;
        res.writeHead(204).end();
        return;
      }
      json(404, { detail: `no route ${req.method} ${route}` });
    });
  });
  return { server, received, blocks };
}

