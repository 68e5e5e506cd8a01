import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CiContext } from '../../src/ci-context.js';
import { loadConfigSync, type ConfigOverrides } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/logger.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import type { PipelineResult } from '../../src/pipeline.js';
import { runConfig as runCore } from '../../src/run-config.js';
import { parseSteps } from '../../src/steps.js';

export interface PipelineRun {
  result: PipelineResult;
  logger: MemoryLogger;
}

/** Runs the same core the action runs, in-process, on a config written to `dir`. */
export async function runConfig(options: {
  dir: string;
  yaml: string;
  env: NodeJS.ProcessEnv;
  ci: CiContext;
  steps?: string;
  overrides?: ConfigOverrides;
}): Promise<PipelineRun> {
  const file = path.join(options.dir, 'lolpop.yaml');
  writeFileSync(file, options.yaml);
  const logger = new MemoryLogger();
  const config = loadConfigSync(file, options.overrides ?? {}, orchestratorLookup, options.env);
  const result = await runCore(config, parseSteps(options.steps ?? "deploy,run"), { logger, env: options.env, ci: options.ci, workdir: options.dir });
  return { result, logger };
}

/** GET/POST against the real server, to check what the tool did. */
export async function prefectApi<T>(apiUrl: string, method: string, pathname: string, body?: unknown): Promise<T> {
  const res = await fetch(`${apiUrl}/${pathname}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${pathname}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
