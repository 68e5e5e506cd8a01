import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { PackageKwargs } from '../../config/schema.js';
import { OrchestratorError } from '../../errors.js';
import { poll } from '../../poll.js';
import { openRegularFile, readProjectFile, resolveInside, TEXT_FILE_MAX_BYTES, writeFileAtomic } from '../../project-files.js';
import type { RunState } from '../orchestrator.js';

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

/**
 * The RunStates a local process can be in (its record stores them as they are, so the
 * mapping onto RunState is the identity). A run stopped at the
 * wait-timeout or by a signal to lolpop-deploy is CANCELLED (its `error` says which); a run
 * whose process vanished without an end being recorded, or that a signal from elsewhere
 * killed, is CRASHED. FAILED is a non-zero exit.
 */
export type LocalRunState = Extract<RunState, 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'CRASHED'>;

/** The lolpop-deploy process that started a run: to tell a live run from a stale record. */
export interface RunOwner {
  pid: number;
  /** When that process started (approximately). */
  started: string;
  /** Linux: field 22 of /proc/<pid>/stat, exact, so a reused pid is told apart. */
  startTicks?: string;
  host: string;
}

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
  /** The signal that ended the Python process, when one did. */
  signal?: string;
  /** Why a run was CANCELLED or CRASHED, in a sentence. */
  error?: string;
  /** The Python process (the leader of its own process group). */
  pid?: number;
  /** The variable each of its processes carries (ProcessGroup's marker): how a later process finds them to cancel the run. */
  marker?: string;
  owner?: RunOwner;
}

/**
 * The local state folder (`.lolpop-deploy/` under the working directory): one
 * JSON file per deployment, one folder per run. Plain files, so a user can read
 * and delete them by hand. Every JSON file is replaced atomically (a temp file in
 * the same folder, then rename), so a concurrent reader sees the old or the new
 * record, never half of one. Every path goes through `inside`: a folder or file of the
 * state that a link leads out of the state folder is refused, and run ids read back from
 * disk must be run ids before they name a folder.
 */
export class StateStore {
  constructor(readonly root: string) {}

  deploymentFile(name: string): string {
    return this.inside('deployments', `${safeFileName(name)}.json`);
  }

  /** The deployment recorded as `name`; one recorded under another name that cleans to the same file is refused. */
  readDeployment(name: string): DeploymentRecord | undefined {
    const file = this.deploymentFile(name);
    const record = this.readJson<DeploymentRecord>(file);
    if (record && record.name !== name) {
      throw new OrchestratorError(`Failed to read deployment '${name}': ${file} records deployment '${record.name}'; delete it or rename one of the two`);
    }
    return record;
  }

  writeDeployment(record: DeploymentRecord): string {
    const file = this.deploymentFile(record.name);
    writeJsonAtomic(file, record);
    return file;
  }

  /** True when there was a record to remove. */
  removeDeployment(name: string): boolean {
    const file = this.deploymentFile(name);
    if (!existsSync(file)) return false;
    rmSync(file, { force: true });
    return true;
  }

  /** A run's folder; `id` must be a run id (it may come from a file on disk: `../x` never names a folder). */
  runDir(id: string): string {
    if (!isRunId(id)) throw new OrchestratorError(`Refusing run id '${id}': not a run id (such as ${RUN_ID_EXAMPLE}), so it names no folder under ${this.root}`);
    return this.inside('runs', id);
  }

  /** Creates the run's folder; false when one with this id exists already (pick another id). */
  createRunDir(id: string): boolean {
    mkdirSync(this.inside('runs'), { recursive: true });
    try {
      mkdirSync(this.runDir(id));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  /** The run recorded in `runs/<id>/run.json`; its recorded id must be its folder's (it names the folder written next). */
  readRun(id: string): RunRecord | undefined {
    const file = path.join(this.runDir(id), 'run.json');
    const record = this.readJson<RunRecord>(file);
    if (record && record.id !== id) throw new OrchestratorError(`Refusing ${file}: it records run id '${String(record.id)}', not its folder's '${id}'; fix or delete it`);
    return record;
  }

  writeRun(record: RunRecord): void {
    writeJsonAtomic(path.join(this.runDir(record.id), 'run.json'), record);
  }

  /** The earlier run of `deployment` started with `key`, if any. */
  async findRunByIdempotencyKey(deployment: string, key: string): Promise<RunRecord | undefined> {
    const claimed = await this.claimedRun(deployment, key);
    if (claimed) return claimed;
    // Runs recorded before keys were claimed (keys/), or whose claim was deleted by hand.
    const runs = this.inside('runs');
    if (!existsSync(runs)) return undefined;
    for (const id of readdirSync(runs).filter(isRunId).sort()) {
      let run: RunRecord | undefined;
      try {
        run = this.readRun(id);
      } catch {
        continue; // someone else's broken record is not this key's run
      }
      if (run?.deployment === deployment && run.idempotencyKey === key) return run;
    }
    return undefined;
  }

  /**
   * Claims `key` for run `id` with an exclusive create, so of two processes starting the
   * same key at once exactly one runs. Undefined when claimed; else the run that holds it.
   */
  async claimIdempotencyKey(deployment: string, key: string, id: string): Promise<RunRecord | undefined> {
    const file = this.keyFile(deployment, key);
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, `${JSON.stringify({ deployment, key, run: id })}\n`, { flag: 'wx' });
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await this.claimedRun(deployment, key, 5000);
    if (holder) return holder;
    throw new OrchestratorError(`Failed to run: idempotency key '${key}' is claimed in ${file}, but its run has no run.json; delete ${file} to run again`);
  }

  /** Frees `key` when its run could not even be recorded. */
  releaseIdempotencyKey(deployment: string, key: string): void {
    rmSync(this.keyFile(deployment, key), { force: true });
  }

  /**
   * The run that claimed `key`: its run.json may take a moment to appear after the claim.
   * Waits without blocking: other workflows of the same step go on meanwhile.
   */
  private async claimedRun(deployment: string, key: string, patienceMs = 0): Promise<RunRecord | undefined> {
    const file = this.keyFile(deployment, key);
    // The claim is written with one write of a few bytes; a reader racing it may see it
    // empty (unreadable JSON) for a moment: read again until it parses, for up to a second.
    const read = await poll(
      async () => {
        try {
          return { claim: this.readJson<{ run?: string }>(file) };
        } catch (error) {
          return { error };
        }
      },
      (outcome) => !('error' in outcome),
      { timeoutMs: Math.max(patienceMs, 1000), intervalMs: 20 },
    );
    if ('error' in read.value) throw read.value.error;
    const runId = read.value.claim?.run;
    if (!runId) return undefined;
    if (!isRunId(runId)) throw new OrchestratorError(`Refusing ${file}: it names run '${String(runId)}', not a run id (such as ${RUN_ID_EXAMPLE}); delete it`);
    const found = await poll(async () => this.readRun(runId), (run) => run !== undefined, { timeoutMs: patienceMs, intervalMs: 20 });
    return found.value;
  }

  private keyFile(deployment: string, key: string): string {
    const hash = createHash('sha256').update(`${deployment}\n${key}`).digest('hex').slice(0, 32);
    return this.inside('keys', `${safeFileName(deployment)}-${hash}.json`);
  }

  /** `root/<segments>`, refused when a link on the way leads out of the state folder. */
  private inside(...segments: string[]): string {
    return resolveInside({ root: this.root, file: path.join(...segments), what: `local state '${path.join(...segments)}'`, rootName: 'the state folder' });
  }

  private readJson<T>(file: string): T | undefined {
    const bytes = readProjectFile({ root: this.root, file, what: `local state '${path.relative(this.root, file)}'`, rootName: 'the state folder' }, TEXT_FILE_MAX_BYTES);
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (error) {
      throw new OrchestratorError(`Failed to read ${file}: not valid JSON (${(error as Error).message}); fix or delete it`);
    }
  }
}

const RUN_ID_EXAMPLE = '20250131T120501Z-3fa9c2';

/** `20250131T120501Z-3fa9c2`: sorts by start time, unique enough for one machine. */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** What newRunId makes: the only names a run folder has. */
export function isRunId(id: unknown): id is string {
  return typeof id === 'string' && /^\d{8}T\d{6}Z-[0-9a-f]{6}$/.test(id);
}

/**
 * Deployment names become file names: kept readable, but never a path. A name the
 * cleaning changes gets a short hash of itself, so `team/a` and `team_a` never share a
 * record (and so a runner).
 */
export function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  if (cleaned === name) return name;
  return `${cleaned}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/** Writes `file` whole or not at all (writeFileAtomic). */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** The last `bytes` of a file (its whole first line dropped when cut), for a report written after the fact. */
export function readTail(file: string, bytes: number): string {
  // A log.txt replaced by a link (to a credentials file) is refused: its tail goes into messages and reports.
  const opened = openRegularFile(file, `run log '${path.basename(path.dirname(file))}/${path.basename(file)}'`);
  if (!opened) return '';
  const start = Math.max(0, opened.size - bytes);
  const buffer = Buffer.alloc(opened.size - start);
  try {
    readSync(opened.fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(opened.fd);
  }
  const text = buffer.toString('utf8');
  return start > 0 ? text.slice(text.indexOf('\n') + 1) : text;
}

/** This process as a run's owner. */
export function currentOwner(): RunOwner {
  const ticks = startTicks(process.pid);
  return {
    pid: process.pid,
    started: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    ...(ticks ? { startTicks: ticks } : {}),
    host: hostname(),
  };
}

/** Linux: a process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
export function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command (field 2) is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid runs (EPERM: it does, as another user's; a zombie has ended). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Linux: the process has exited and waits to be reaped (state Z in /proc/<pid>/stat). */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
