import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PackageKwargs } from '../../config/schema.js';

/** What `deploy` records in `deployments/<name>.json`. */
export interface DeploymentRecord {
  id: string;
  name: string;
  /** `prefect_files/run.py:prefect_entrypoint`, or the user's `path/file.py:fn`. */
  entrypoint: string;
  /** Default run parameters; a run's own parameters are merged over them. */
  parameters: Record<string, unknown>;
  package: PackageKwargs;
  created: string;
  updated: string;
}

export type LocalRunState = 'RUNNING' | 'COMPLETED' | 'FAILED';

/** What `run` records in `runs/<id>/run.json`. */
export interface RunRecord {
  id: string;
  deployment: string;
  entrypoint: string;
  parameters: Record<string, unknown>;
  state: LocalRunState;
  idempotencyKey?: string;
  python: string;
  command: string[];
  started: string;
  ended?: string;
  durationMs?: number;
  exitCode?: number;
}

/**
 * The local state folder (`.lolpop-deploy/` under the working directory): one
 * JSON file per deployment, one folder per run. Plain files, so a user can read
 * and delete them by hand.
 */
export class StateStore {
  constructor(readonly root: string) {}

  deploymentFile(name: string): string {
    return path.join(this.root, 'deployments', `${safeFileName(name)}.json`);
  }

  readDeployment(name: string): DeploymentRecord | undefined {
    return readJson<DeploymentRecord>(this.deploymentFile(name));
  }

  writeDeployment(record: DeploymentRecord): string {
    const file = this.deploymentFile(record.name);
    writeJson(file, record);
    return file;
  }

  /** True when there was a record to remove. */
  removeDeployment(name: string): boolean {
    const file = this.deploymentFile(name);
    if (!existsSync(file)) return false;
    rmSync(file);
    return true;
  }

  runDir(id: string): string {
    return path.join(this.root, 'runs', id);
  }

  readRun(id: string): RunRecord | undefined {
    return readJson<RunRecord>(path.join(this.runDir(id), 'run.json'));
  }

  writeRun(record: RunRecord): void {
    writeJson(path.join(this.runDir(record.id), 'run.json'), record);
  }

  /** The earlier run of `deployment` started with `key`, if any. */
  findRunByIdempotencyKey(deployment: string, key: string): RunRecord | undefined {
    const runs = path.join(this.root, 'runs');
    if (!existsSync(runs)) return undefined;
    for (const id of readdirSync(runs).sort()) {
      const run = this.readRun(id);
      if (run?.deployment === deployment && run.idempotencyKey === key) return run;
    }
    return undefined;
  }
}

/** Deployment names become file names: keep them readable, but never a path. */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
}

function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
