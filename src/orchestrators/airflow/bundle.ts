import path from 'node:path';
import type { AirflowKwargs } from './kwargs.js';
import { ConfigError } from '../../errors.js';
import { COPIED_FILE_MAX_BYTES, readProjectFile } from '../../project-files.js';
import { joinPosix } from '../../packaging/paths.js';
import { workflowFiles } from '../../packaging/workflow-files.js';
import { workflowDirFor } from '../../packaging/dockerfile.js';
import { LAUNCHER_PY, launchSpec, splitEntrypoint } from '../../packaging/launcher.js';
import type { ResolvedDeployment } from '../../deployment.js';
import { RELEASES_DIR, renderDagFile, RUN_TASK_PY } from './dag-file.js';
import { sha256, type AirflowTarget } from './names.js';
import { secretVariables } from './secret-variables.js';
import { CONTAINER_TASK_PY, runsInImage, type AirflowTask } from './task.js';

/** A file of the bundle: a path relative to the deployment's folder in the DAGs folder, and its bytes. */
export interface BundleFile {
  path: string;
  content: string | Buffer;
}

/** Everything deploy puts into `<dags_folder>/<dag_id>/`. */
export interface DagBundle {
  dagId: string;
  fingerprint: string;
  /** `<dag_id>.py`, relative to the deployment's folder. */
  dagFileName: string;
  dagFile: string;
  /** `.airflowignore`: keeps the dag-processor out of the releases. */
  ignoreFile: string;
  /** The release's files, relative to `releases/<fingerprint>/`. */
  release: BundleFile[];
  /** What the DAG's task runs (airflowTask's decision). */
  task: AirflowTask;
}

export interface BundleOptions {
  deployment: ResolvedDeployment<AirflowKwargs, AirflowTarget>;
  /** Where the workflow's files are read from. */
  workdir: string;
  /** The task kind and its settings, decided once by airflowTask. */
  task: AirflowTask;
  extraTags: string[];
}

/** The workflow's own files inside a release; the launcher runs there. */
const WORKFLOW_DIR = 'workflow';

/**
 * The deployment as Airflow gets it. The release holds lolpop-deploy's launcher (the
 * LocalOrchestrator's, unchanged), its launch spec and the task script. For a bash task
 * it also holds a copy of the workflow, the files the image would get: copy_files, the
 * runner config, and the workflow folder ({prefect_files}, or the flow file's folder)
 * with the runner modules kept there; a docker task finds them in the image, in its
 * WORKDIR, where the generated Dockerfile puts them. The workflow folder is importable
 * in both (python_path), as it is when the image runs {prefect_files}/run.py. The
 * fingerprint hashes all of it and the DAG's settings (the image among them), so an
 * unchanged deploy is recognisable and a changed one gets a release folder of its own.
 */
export function buildBundle(options: BundleOptions): DagBundle {
  const d = options.deployment;
  const { package: pkg, entrypoint } = d;
  const dagId = d.target.dagId;
  const inImage = runsInImage(options.task);
  // In the image the workflow is the WORKDIR itself ("."), as the generated Dockerfile lays it out.
  const workdir = inImage ? '.' : WORKFLOW_DIR;
  const secrets = secretVariables(dagId, d.secretParameters);
  const spec: AirflowLaunchSpec = launchSpec(pkg, entrypoint, workdir, d.deploy.parameters ?? {}, false, Object.fromEntries(secrets.map((s) => [s.parameter, s.env])));
  const importable = workflowDirFor(pkg);
  if (importable !== '.') spec.python_path = [importable];
  const release: BundleFile[] = [
    { path: 'launcher.py', content: LAUNCHER_PY },
    inImage ? { path: 'container_task.py', content: CONTAINER_TASK_PY } : { path: 'run_task.py', content: RUN_TASK_PY },
    { path: 'spec.json', content: `${JSON.stringify(spec, null, 2)}\n` },
  ];
  for (const file of inImage ? [] : workflowFiles(pkg, spec.flow ? splitEntrypoint(entrypoint).file : undefined, options.workdir)) {
    // Only a regular file inside the working directory: a committed train.csv -> /proc/self/environ is refused, not copied.
    const content = readProjectFile({ root: options.workdir, file, what: `to deliver '${file}' to Airflow` }, COPIED_FILE_MAX_BYTES);
    if (content === undefined) {
      throw new ConfigError(`Cannot deliver '${file}' to Airflow: ${path.resolve(options.workdir, file)} does not exist (listed in package.copy_files, or the config_file / flow file)`);
    }
    release.push({ path: joinPosix(WORKFLOW_DIR, file), content });
  }
  const taskId = spec.runner ? spec.runner.entrypoint : spec.flow!.function;
  const dagSettings = {
    dagId,
    deploymentName: d.name,
    taskId,
    task: options.task,
    description: d.deploy.description ?? `lolpop-deploy: ${d.name} (${entrypoint})`,
    tags: [...(d.deploy.tags ?? []), ...options.extraTags],
    secrets,
  };
  // A bash task hashes the settings it always had, in their order: a DAG deployed before
  // the docker kind existed keeps its fingerprint.
  const { task, ...rest } = dagSettings;
  const hashed = task.kind === 'bash' ? { dagId, deploymentName: rest.deploymentName, taskId, python: task.python, description: rest.description, tags: rest.tags } : dagSettings;
  const hash = sha256(JSON.stringify([hashed, release.map((f) => [f.path, sha256(f.content)])]));
  const fingerprint = hash.slice(0, 16);
  return {
    dagId,
    fingerprint,
    dagFileName: `${dagId}.py`,
    dagFile: renderDagFile({ ...dagSettings, fingerprint }),
    ignoreFile: `# Generated by lolpop-deploy: the releases are not DAG files.\n${RELEASES_DIR}/\n`,
    release,
    task: options.task,
  };
}

/** The launch spec with the folders the task scripts put on sys.path (relative to its workdir). */
type AirflowLaunchSpec = ReturnType<typeof launchSpec> & { python_path?: string[] };
