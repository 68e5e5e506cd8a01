import { existsSync, readFileSync } from 'node:fs';
import { dockerRunResourceArgs } from '../../docker/resources.js';
import { readProjectFile, TEXT_FILE_MAX_BYTES } from '../../project-files.js';
import path from 'node:path';
import type { FileChange, OrchestratorContext, PlannedRequest, PlanRequest, PlanResult } from '../orchestrator.js';
import { planPackage } from '../../packaging/package-project.js';
import { triggerBody, type AirflowApi, type Dag } from './api.js';
import type { DagBundle } from './bundle.js';
import { RELEASES_DIR } from './dag-file.js';
import { bundleFiles } from './deliver.js';
import type { GitTarget } from './deliver-git.js';
import { runIdFor } from './names.js';
import { plannedSecretVariables } from './secret-variables.js';
import { runsInImage } from './task.js';

export interface AirflowPlanInputs {
  bundle: DagBundle;
  /** `{prefect_files}/airflow/<dag_id>.py`, relative to the working directory. */
  dagFileInWorkdir: string;
  /** The DAGs folder, when one is configured. */
  dagsFolder?: string;
  /** With delivery: git, where the files would be pushed: nothing is fetched for a plan. */
  git?: GitTarget;
  /** With delivery: s3, where the objects would be uploaded (bucket and prefix): nothing is listed for a plan. */
  s3Target?: string;
  /** The server to read (never write), when one is configured; else an offline plan. */
  api?: AirflowApi;
}

/**
 * What package → deploy → run would write and send, without writing or sending
 * anything that changes state: the package files, the delivery into the DAGs folder,
 * and the REST calls with their bodies. The server is only read (does the DAG exist,
 * is it this version, is it paused).
 */
export async function planAirflow(request: PlanRequest, ctx: OrchestratorContext, inputs: AirflowPlanInputs): Promise<PlanResult> {
  const { bundle } = inputs;
  const base = inputs.api?.client.connection.baseUrl ?? '<AIRFLOW_API_URL>';
  // A docker task runs the package's image: package writes the Dockerfile and builds it.
  const inImage = runsInImage(bundle.task);
  const packaged = request.steps.includes('package')
    ? planPackage(request.resolved, { ...ctx, buildImage: inImage, dockerfile: inImage })
    : { files: [], kept: [], actions: [] };
  const files = [...packaged.files];
  const actions = [...packaged.actions];
  if (request.steps.includes('package')) {
    const before = readProjectFile({ root: ctx.workdir, file: inputs.dagFileInWorkdir, what: `'${inputs.dagFileInWorkdir}'` }, TEXT_FILE_MAX_BYTES);
    const change = before === undefined ? 'new' : before.toString('utf8') === bundle.dagFile ? 'unchanged' : 'updated';
    files.push({ path: inputs.dagFileInWorkdir, change });
    actions.push(`write ${inputs.dagFileInWorkdir} (${change})`);
  }
  const requests: PlannedRequest[] = [];
  let dag: Dag | undefined;
  if (inputs.api) dag = await inputs.api.readDag(bundle.dagId);
  const where = inputs.api ? ` on ${base}` : ' (offline: no AIRFLOW_API_URL)';
  // The server's API when one is read; offline, Airflow 3's.
  const version = inputs.api ? await inputs.api.client.apiVersion() : 'v2';
  const rest = `${base}/api/${version}`;
  const secretNames = Object.keys(request.resolved.secretParameters);
  if (secretNames.length > 0 && (request.steps.includes('deploy') || request.steps.includes('run'))) {
    requests.push(...plannedSecretVariables(rest, bundle.dagId, request.resolved.secretParameters));
    actions.push(`write the secret parameters ${secretNames.join(', ')} into Airflow Variables (created or updated); the DAG reads them when a run starts`);
  }
  if (request.steps.includes('deploy')) {
    const folder = inputs.dagsFolder ?? '<dags_folder>';
    const releaseExists = inputs.dagsFolder !== undefined && existsSync(path.join(inputs.dagsFolder, bundle.dagId, RELEASES_DIR, bundle.fingerprint));
    const dagChange = inputs.dagsFolder ? changeOf(path.join(inputs.dagsFolder, bundle.dagId, bundle.dagFileName), bundle.dagFile) : 'new';
    actions.push(
      inputs.git
        ? `commit and push to ${inputs.git.url}, branch ${inputs.git.branch}, folder ${inputs.git.folder}/ (one commit, unless it already holds release ${bundle.fingerprint}): ` +
            bundleFiles(bundle).join(', ')
        : inputs.s3Target
          ? `upload ${bundle.dagFileName} and release ${bundle.fingerprint} (${bundle.release.length} files) to ${inputs.s3Target}, the DAG file last; older releases there are deleted`
          : `deliver ${path.join(folder, bundle.dagId, bundle.dagFileName)} (${dagChange}) and release ${bundle.fingerprint} ` +
            `(${bundle.release.length} files${releaseExists ? ', already there' : ''})`,
    );
    actions.push(taskLine(bundle));
    const current = dag?.tags.some((t) => t.name === `lolpop-deploy:${bundle.fingerprint}`);
    actions.push(
      dag
        ? `wait for Airflow to parse DAG ${bundle.dagId}${current ? ' (it already shows this release)' : ` (it shows an earlier release)`}${where}`
        : `wait for Airflow to parse the new DAG ${bundle.dagId}${where}`,
    );
    if (dag?.file_token) requests.push({ method: 'PUT', url: `${rest}/parseDagFile/${dag.file_token}` });
    if (!dag || dag.is_paused) {
      requests.push({ method: 'PATCH', url: `${rest}/dags/${bundle.dagId}`, body: { is_paused: false } });
      actions.push(`unpause DAG ${bundle.dagId}`);
    }
  }
  if (request.steps.includes('run')) {
    const key = request.resolved.idempotencyKey;
    const runId = key ? runIdFor(key) : null;
    const conf = request.resolved.run.parameters;
    requests.push({ method: 'POST', url: `${rest}/dags/${bundle.dagId}/dagRuns`, body: triggerBody(version, runId, conf) });
    actions.push(`trigger a run of DAG ${bundle.dagId}${runId ? ` with run id ${runId} (an existing one is reused)` : ''} and conf ${JSON.stringify(conf)}`);
  }
  return { files, kept: packaged.kept, ...('image' in packaged && packaged.image ? { image: packaged.image } : {}), actions, requests };
}

/** What the DAG's one task will run, as plan says it. */
function taskLine(bundle: DagBundle): string {
  const task = bundle.task;
  if (task.kind === 'bash') return `its task: a BashOperator running the runner with ${task.python ?? "the worker's own Python"}`;
  if (task.kind === 'kubernetes') {
    const k = task.kubernetes;
    const cluster = k.in_cluster ? 'in-cluster config' : k.config_file ? `kubeconfig ${k.config_file}` : `connection ${k.kubernetes_conn_id ?? 'kubernetes_default'}`;
    const settings = [
      `namespace ${k.namespace}`,
      cluster,
      k.image_pull_secrets.length > 0 && `pull secrets ${k.image_pull_secrets.join(', ')}`,
      task.resources && `resources ${Object.keys(task.resources).join(', ')}`,
    ].filter(Boolean);
    return `its task: a KubernetesPodOperator running the runner in ${task.image}, pod ${task.podName}-<random> (${settings.join(', ')})`;
  }
  const d = task.docker;
  const limits = dockerRunResourceArgs(task.resources ?? {});
  const settings = [
    d.docker_url && `docker_url ${d.docker_url}`,
    d.network_mode && `network_mode ${d.network_mode}`,
    d.docker_conn_id && `registry login with connection ${d.docker_conn_id}`,
    `auto_remove ${d.auto_remove}`,
    d.force_pull && 'force_pull',
    d.mounts.length > 0 && `${d.mounts.length} mount${d.mounts.length > 1 ? 's' : ''}`,
    limits.length > 0 && `limits as docker run ${limits.join(' ')}`,
  ].filter(Boolean);
  return `its task: a DockerOperator running the runner in ${task.image} (${settings.join(', ')})`;
}

function changeOf(file: string, content: string): FileChange {
  if (!existsSync(file)) return 'new';
  return readFileSync(file, 'utf8') === content ? 'unchanged' : 'updated';
}
