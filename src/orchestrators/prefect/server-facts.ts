import { createHash } from 'node:crypto';
import { WriteGate } from '../../http/write-gate.js';
import type { WorkPool } from './api.js';

/**
 * What a Prefect server told this step, kept for every workflow the step deploys to
 * it: its version, the work pools found (a pool's type does not change while a step
 * runs; a missing one is asked again, a worker may be creating it), and the ids of the
 * flows registered (`POST /flows/` upserts by name and answers the same id while the
 * flow exists; lolpop's workflows all share one flow). Failures are never kept. And
 * how busy it is: its writes go one at a time once it refused one as busy (503, as
 * Prefect on SQLite does; src/http/write-gate.ts). Keyed by the API URL and the
 * credentials, so a workflow with other credentials asks for itself.
 */
export interface ServerFacts {
  version?: Promise<string>;
  pools: Map<string, Promise<WorkPool | undefined>>;
  /** Flow id by flow name. */
  flows: Map<string, Promise<string>>;
  writes: WriteGate;
}

/** Nothing known yet. */
export function noFacts(): ServerFacts {
  return { pools: new Map(), flows: new Map(), writes: new WriteGate() };
}

/** The facts of this server in the step's shared map; a fresh set without one (a single workflow). */
export function serverFacts(shared: Map<string, unknown> | undefined, url: string, authorization: string | undefined): ServerFacts {
  if (!shared) return noFacts();
  const who = authorization ? createHash('sha256').update(authorization).digest('hex').slice(0, 16) : 'anonymous';
  const key = `prefect:${url}:${who}`;
  let facts = shared.get(key) as ServerFacts | undefined;
  if (!facts) {
    facts = noFacts();
    shared.set(key, facts);
  }
  return facts;
}
