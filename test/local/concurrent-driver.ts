/**
 * `node driver.js <project dir> <tag> <count>`: `count` concurrent deploy+run of the local
 * orchestrator in this one process (deployments shared with the other drivers), each run
 * with its own idempotency key so that each scans the others' records. Prints one JSON line:
 * {ok, errors}. Bundled and started by concurrency.test.ts.
 */
import path from 'node:path';
import { loadConfigSync } from '../../src/config/load.js';
import { describeError } from '../../src/errors.js';
import { ProcessExec } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';
import { LocalConfig } from '../../src/orchestrators/local/config.js';
import { LocalOrchestrator } from '../../src/orchestrators/local/orchestrator.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { ciContext } from '../helpers/services.js';
import { requestsOf } from '../helpers/requests.js';

const [dir, tag, count] = process.argv.slice(2) as [string, string, string];
const configFile = path.join(dir, 'lolpop.yaml');
const loaded = loadConfigSync(configFile, {}, orchestratorLookup, process.env);
const d = loaded.deployment;

async function one(i: number): Promise<void> {
  const ctx = { logger: new MemoryLogger(), exec: new ProcessExec(), fetch: globalThis.fetch, env: process.env, ci: ciContext(), workdir: dir, configFile };
  const orchestrator = new LocalOrchestrator(LocalConfig.parse(loaded.orchestratorConfig ?? {}), ctx);
  const name = `qs-${i % 5}`;
  const requests = requestsOf(loaded, { name, run: { ...d.run, idempotency_key: `${tag}-${i}` } });
  await orchestrator.deploy(requests.deploy());
  const run = await orchestrator.run(requests.run());
  if (run.state !== 'COMPLETED') throw new Error(`run ${run.id} ${run.state}`);
  await orchestrator.wait({ run, timeoutMs: 10_000, pollMs: 50 });
}

const results = await Promise.allSettled(Array.from({ length: Number(count) }, (_, i) => one(i)));
const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => describeError(r.reason));
process.stdout.write(`${JSON.stringify({ ok: results.length - errors.length, errors })}\n`);
