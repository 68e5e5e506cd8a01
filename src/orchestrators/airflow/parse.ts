import { OrchestratorError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { poll } from '../../poll.js';
import type { AirflowApi, Dag, ImportError } from './api.js';
import { FINGERPRINT_TAG } from './names.js';

/** The bundle a plain DAGs folder is, in Airflow 3. */
const DAGS_FOLDER_BUNDLE = 'dags-folder';

/**
 * Asks the dag-processor to look now instead of at its next refresh (300 s by default):
 * `PUT parseDagFile` needs a file token, which only a DAG Airflow already knows has; a
 * priority parse of any file of the bundle refreshes the whole bundle, new files
 * included. Without any DAG in the bundle (or a bundle name: null) there is nothing to
 * nudge with. Best effort.
 */
export async function nudgeParsing(api: AirflowApi, logger: Logger, known?: Dag, bundleName: string | null = DAGS_FOLDER_BUNDLE): Promise<void> {
  try {
    const dag = known?.file_token ? known : bundleName ? await api.anyDagOfBundle(bundleName) : undefined;
    if (dag?.file_token) {
      await api.reparse(dag.file_token);
      logger.debug(`airflow: asked for a reparse (via ${dag.dag_id})`);
    }
  } catch (error) {
    logger.debug(`airflow: no reparse nudge (${(error as Error).message})`);
  }
}

export interface AwaitParsedOptions {
  dagId: string;
  fingerprint: string;
  /** The DAG file relative to the DAGs folder, as import errors name it. */
  relativeFile: string;
  /** When the file was written: older import errors are not this deploy's. */
  since: Date;
  timeoutMs: number;
  pollMs?: number;
  /** The DAG as it was before, to nudge parsing with again while waiting. */
  nudgeWith?: Dag;
  /** The bundle to nudge through when the DAG is new (default dags-folder; null: none known, wait for its refresh). */
  bundleName?: string | null;
}

/**
 * Polls until Airflow shows the DAG with this deploy's fingerprint tag and no import
 * error; a new import error for the file fails at once with Airflow's own message.
 */
export async function awaitParsed(api: AirflowApi, logger: Logger, options: AwaitParsedOptions): Promise<Dag> {
  const tag = `${FINGERPRINT_TAG}${options.fingerprint}`;
  const started = Date.now();
  let seen = 'not parsed yet';
  const isCurrent = (dag: Dag | undefined): dag is Dag => !!dag && dag.tags.some((t) => t.name === tag) && !dag.has_import_errors && !dag.is_stale;
  const outcome = await poll(() => api.readDag(options.dagId), isCurrent, {
    timeoutMs: options.timeoutMs,
    intervalMs: options.pollMs ?? 1000,
    onPending: async (dag, { attempt, last }) => {
      if (dag) {
        seen = dag.tags.some((t) => t.name === tag)
          ? `parsed but ${dag.is_stale ? 'stale' : 'with import errors'}`
          : `still the previous version (${versionTag(dag) ?? 'no fingerprint tag'})`;
      }
      const error = newestError(await api.importErrors(options.relativeFile), options.since);
      if (error) {
        throw new OrchestratorError(`Failed to deploy ${options.dagId}: Airflow cannot import ${error.filename}: ${importProblem(error.stack_trace)}`);
      }
      // Nudge again now and then: the first one may have come before the file was listed.
      if (!last && attempt % 5 === 0) await nudgeParsing(api, logger, dag ?? options.nudgeWith, options.bundleName);
    },
  });
  if (outcome.done) {
    logger.info(`Airflow parsed DAG ${options.dagId} (release ${options.fingerprint}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return outcome.value;
  }
  const processor = await dagProcessorProblem(api);
  if (processor) throw new OrchestratorError(`Failed to deploy ${options.dagId}: Airflow did not parse ${options.relativeFile} within ${Math.round(options.timeoutMs / 1000)} s: ${processor}`);
  throw new OrchestratorError(
    `Failed to deploy ${options.dagId}: Airflow did not parse ${options.relativeFile} within ${Math.round(options.timeoutMs / 1000)} s (${seen}); ` +
      "is dags_folder the server's DAGs folder, and is its dag-processor running? ([dag_processor] refresh_interval is how often it looks for new files)",
  );
}

function versionTag(dag: Dag): string | undefined {
  return dag.tags.find((t) => t.name.startsWith(FINGERPRINT_TAG))?.name;
}

/** The newest import error recorded after `since` (with a little slack for clocks). */
function newestError(errors: ImportError[], since: Date): ImportError | undefined {
  const fresh = errors.filter((e) => Date.parse(e.timestamp) >= since.getTime() - 2000);
  return fresh.sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp))[0];
}

/**
 * A Python traceback in one line: its exception (the last line) and where it was raised
 * (the last `File "…", line N`), e.g. `ValueError: bad tag (at File "/dags/x/x.py", line 40, in <module>)`.
 */
export function importProblem(stackTrace: string): string {
  const lines = stackTrace.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const exception = lines[lines.length - 1] ?? 'unknown error';
  const where = [...lines].reverse().find((l) => l.startsWith('File "'));
  return where ? `${exception} (at ${where})` : exception;
}

/** Why nothing gets parsed, when the server's health says the dag-processor is down. */
async function dagProcessorProblem(api: AirflowApi): Promise<string | undefined> {
  try {
    const processor = (await api.health()).dag_processor;
    if (processor && processor.status !== 'healthy') {
      return `its dag-processor is ${processor.status ?? 'not running'} (last heartbeat ${processor.latest_dag_processor_heartbeat ?? 'never'}); see its log`;
    }
  } catch {
    // health is a hint; the timeout is the error
  }
  return undefined;
}
