import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { htmlHint } from '../../http/html-hint.js';
import { BoundedJsonClient, type JsonRequest } from '../../http/json-client.js';
import { resolveLimits } from '../../http/limits.js';
import { repeatUnlessPost } from '../../http/repeat-after-500.js';
import type { Logger } from '../../logger.js';
import type { KubeflowConnection } from './connection.js';

/*
 * The KFP v2 REST API (/apis/v2beta1) as this tool uses it: answers checked loosely
 * (the server leaves empty fields out and may add new ones), requests exactly as the
 * v2beta1 OpenAPI description has them (test/kubeflow holds a stand-in that refuses
 * anything else, and the real kfp.Client drives the same stand-in).
 */

const Pipeline = z.looseObject({ pipeline_id: z.string().min(1), display_name: z.string().optional(), name: z.string().optional() });
const PipelineVersion = z.looseObject({ pipeline_id: z.string().optional(), pipeline_version_id: z.string().min(1), display_name: z.string().optional() });
const Experiment = z.looseObject({ experiment_id: z.string().min(1), display_name: z.string().optional() });
const RpcStatus = z.looseObject({ code: z.number().optional(), message: z.string().optional() });
const TaskDetail = z.looseObject({ display_name: z.string().optional(), state: z.string().optional(), error: RpcStatus.optional() });
const Run = z.looseObject({
  run_id: z.string().min(1),
  display_name: z.string().optional(),
  state: z.string().optional(),
  error: RpcStatus.optional(),
  pipeline_version_reference: z.looseObject({ pipeline_id: z.string().optional(), pipeline_version_id: z.string().optional() }).optional(),
  run_details: z.looseObject({ task_details: z.array(TaskDetail).optional() }).optional(),
});
const RecurringRun = z.looseObject({
  recurring_run_id: z.string().min(1),
  display_name: z.string().optional(),
  mode: z.string().optional(),
  pipeline_version_reference: z.looseObject({ pipeline_id: z.string().optional(), pipeline_version_id: z.string().optional() }).optional(),
});
const Empty = z.unknown();

export type KfpPipeline = z.infer<typeof Pipeline>;
export type KfpPipelineVersion = z.infer<typeof PipelineVersion>;
export type KfpRun = z.infer<typeof Run>;
export type KfpRecurringRun = z.infer<typeof RecurringRun>;

/** The parts of a run request this tool sets. */
export interface RunBody {
  display_name: string;
  description?: string;
  experiment_id: string;
  pipeline_version_reference: { pipeline_id: string; pipeline_version_id: string };
  runtime_config: { parameters: Record<string, unknown> };
  service_account?: string;
}

export interface RecurringRunBody extends RunBody {
  trigger: { cron_schedule: { cron: string } } | { periodic_schedule: { interval_second: string } };
  max_concurrency: string;
  mode: 'ENABLE';
  no_catchup: boolean;
}

export interface KubeflowApiOptions {
  fetch?: typeof globalThis.fetch;
  logger: Logger;
  /** The budget of one call, retries included (orchestrator.config.request_timeout). */
  timeoutMs?: number;
}

const BASE = 'apis/v2beta1';

/** The KFP resources this tool uses, one method per REST call. */
export class KubeflowApi {
  private readonly http: BoundedJsonClient;

  constructor(
    readonly connection: KubeflowConnection,
    options: KubeflowApiOptions,
  ) {
    for (const secret of connection.secrets) options.logger.addSecret(secret);
    this.http = new BoundedJsonClient(
      {
        name: 'Kubeflow Pipelines',
        logTag: 'kfp',
        baseUrl: connection.host,
        shownUrl: connection.host,
        urlSetting: 'orchestrator.config.host (KF_PIPELINES_ENDPOINT)',
        htmlHint: htmlHint('orchestrator.config.host', 'the KFP API host (e.g. http://localhost:3000 or https://<gateway>/pipeline), not a login page'),
        credentialsHint: 'check orchestrator.config.token / token_path / cookie, and that the profile namespace is yours',
        // A KFP POST creates something with a new id each time: never repeated after a 500.
        repeatAfter500: repeatUnlessPost(),
      },
      { fetch: options.fetch, logger: options.logger, limits: resolveLimits({ budgetMs: options.timeoutMs }) },
    );
  }

  private async call<S extends z.ZodType>(method: string, path: string, request: JsonRequest<S>): Promise<z.output<S>> {
    const answer = await this.http.request(method, `${BASE}/${path}`, { ...request, headers: { ...this.connection.headers, ...request.headers } });
    return answer.body;
  }

  /** The pipeline with this display name in the namespace, if any. */
  async findPipeline(name: string): Promise<KfpPipeline | undefined> {
    const body = await this.call('GET', 'pipelines', {
      action: `look up the pipeline '${name}'`,
      schema: z.looseObject({ pipelines: z.array(Pipeline).optional() }),
      searchParams: this.withNamespace({ filter: equals('display_name', name), page_size: '10' }),
    });
    return body.pipelines?.find((p) => p.display_name === name);
  }

  /** A pipeline without a version yet (CreatePipeline): versions are uploaded one per content. */
  createPipeline(name: string, description: string): Promise<KfpPipeline> {
    const namespace = this.connection.namespace;
    return this.call('POST', 'pipelines', {
      action: `create the pipeline '${name}'`,
      schema: Pipeline,
      json: { name, display_name: name, description, ...(namespace ? { namespace } : {}) },
    });
  }

  async findVersion(pipelineId: string, name: string): Promise<KfpPipelineVersion | undefined> {
    const body = await this.call('GET', `pipelines/${encodeURIComponent(pipelineId)}/versions`, {
      action: `look up the pipeline version '${name}'`,
      schema: z.looseObject({ pipeline_versions: z.array(PipelineVersion).optional() }),
      searchParams: new URLSearchParams({ filter: equals('display_name', name), page_size: '10' }),
    });
    return body.pipeline_versions?.find((v) => v.display_name === name);
  }

  async listVersions(pipelineId: string): Promise<KfpPipelineVersion[]> {
    const all: KfpPipelineVersion[] = [];
    for (let token: string | undefined = undefined, page = 0; page < 20; page++) {
      const body: { pipeline_versions?: KfpPipelineVersion[]; next_page_token?: string } = await this.call('GET', `pipelines/${encodeURIComponent(pipelineId)}/versions`, {
        action: `list the versions of pipeline ${pipelineId}`,
        schema: z.looseObject({ pipeline_versions: z.array(PipelineVersion).optional(), next_page_token: z.string().optional() }),
        searchParams: new URLSearchParams({ page_size: '100', ...(token ? { page_token: token } : {}) }),
      });
      all.push(...(body.pipeline_versions ?? []));
      token = body.next_page_token;
      if (!token) break;
    }
    return all;
  }

  /**
   * Uploads the IR as a new version (UploadPipelineVersion): the names go in the query
   * string, the file is the one multipart part `uploadfile`, as kfp.Client sends it.
   */
  uploadVersion(pipelineId: string, name: string, description: string, ir: string): Promise<KfpPipelineVersion> {
    const boundary = `lolpop-deploy-${randomBytes(12).toString('hex')}`;
    const data =
      `--${boundary}\r\nContent-Disposition: form-data; name="uploadfile"; filename="pipeline.yaml"\r\nContent-Type: application/octet-stream\r\n\r\n` +
      `${ir}\r\n--${boundary}--\r\n`;
    return this.call('POST', 'pipelines/upload_version', {
      action: `upload the pipeline version '${name}'`,
      schema: PipelineVersion,
      searchParams: new URLSearchParams({ name, display_name: name, pipelineid: pipelineId, description }),
      body: { contentType: `multipart/form-data; boundary=${boundary}`, data },
    });
  }

  deleteVersion(pipelineId: string, versionId: string): Promise<unknown> {
    return this.call('DELETE', `pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(versionId)}`, {
      action: `delete the pipeline version ${versionId}`,
      schema: Empty,
    });
  }

  deletePipeline(pipelineId: string): Promise<unknown> {
    return this.call('DELETE', `pipelines/${encodeURIComponent(pipelineId)}`, { action: `delete the pipeline ${pipelineId}`, schema: Empty });
  }

  /** The experiment's id, created when it does not exist yet. */
  async experimentId(name: string): Promise<string> {
    const body = await this.call('GET', 'experiments', {
      action: `look up the experiment '${name}'`,
      schema: z.looseObject({ experiments: z.array(Experiment).optional() }),
      searchParams: this.withNamespace({ filter: equals('display_name', name), page_size: '10' }),
    });
    const found = body.experiments?.find((e) => e.display_name === name);
    if (found) return found.experiment_id;
    const namespace = this.connection.namespace;
    const created = await this.call('POST', 'experiments', {
      action: `create the experiment '${name}'`,
      schema: Experiment,
      json: { display_name: name, ...(namespace ? { namespace } : {}) },
    });
    return created.experiment_id;
  }

  async findRun(experimentId: string, displayName: string): Promise<KfpRun | undefined> {
    const body = await this.call('GET', 'runs', {
      action: `look up the run '${displayName}'`,
      schema: z.looseObject({ runs: z.array(Run).optional() }),
      searchParams: new URLSearchParams({ experiment_id: experimentId, filter: equals('display_name', displayName), page_size: '10' }),
    });
    return body.runs?.find((r) => r.display_name === displayName);
  }

  /** The runs of an experiment whose display name starts with `prefix` (the deployment's). */
  async listRuns(experimentId: string, prefix: string): Promise<KfpRun[]> {
    const all: KfpRun[] = [];
    for (let token: string | undefined = undefined, page = 0; page < 20; page++) {
      const body: { runs?: KfpRun[]; next_page_token?: string } = await this.call('GET', 'runs', {
        action: `list the runs of '${prefix}'`,
        schema: z.looseObject({ runs: z.array(Run).optional(), next_page_token: z.string().optional() }),
        searchParams: new URLSearchParams({
          experiment_id: experimentId,
          filter: JSON.stringify({ predicates: [{ key: 'display_name', operation: 'IS_SUBSTRING', string_value: prefix }] }),
          page_size: '100',
          ...(token ? { page_token: token } : {}),
        }),
      });
      all.push(...(body.runs ?? []).filter((r) => r.display_name?.startsWith(prefix)));
      token = body.next_page_token;
      if (!token) break;
    }
    return all;
  }

  createRun(run: RunBody): Promise<KfpRun> {
    return this.call('POST', 'runs', { action: `create the run '${run.display_name}'`, schema: Run, json: run });
  }

  getRun(runId: string): Promise<KfpRun> {
    return this.call('GET', `runs/${encodeURIComponent(runId)}`, { action: `read the run ${runId}`, schema: Run });
  }

  terminateRun(runId: string): Promise<unknown> {
    return this.call('POST', `runs/${encodeURIComponent(runId)}:terminate`, { action: `terminate the run ${runId}`, schema: Empty });
  }

  async findRecurringRun(experimentId: string, displayName: string): Promise<KfpRecurringRun | undefined> {
    const body = await this.call('GET', 'recurringruns', {
      action: `look up the recurring run '${displayName}'`,
      // The proto itself names this field recurringRuns (so do the server's proto-name answers).
      schema: z.looseObject({ recurringRuns: z.array(RecurringRun).optional() }),
      searchParams: new URLSearchParams({ experiment_id: experimentId, filter: equals('display_name', displayName), page_size: '10' }),
    });
    return body.recurringRuns?.find((r) => r.display_name === displayName);
  }

  createRecurringRun(run: RecurringRunBody): Promise<KfpRecurringRun> {
    return this.call('POST', 'recurringruns', { action: `create the recurring run '${run.display_name}'`, schema: RecurringRun, json: run });
  }

  disableRecurringRun(id: string): Promise<unknown> {
    return this.call('POST', `recurringruns/${encodeURIComponent(id)}:disable`, { action: `disable the recurring run ${id}`, schema: Empty });
  }

  deleteRecurringRun(id: string): Promise<unknown> {
    return this.call('DELETE', `recurringruns/${encodeURIComponent(id)}`, { action: `delete the recurring run ${id}`, schema: Empty });
  }

  /** List calls of pipelines and experiments name the namespace in multi-user mode. */
  private withNamespace(params: Record<string, string>): URLSearchParams {
    const namespace = this.connection.namespace;
    return new URLSearchParams({ ...params, ...(namespace ? { namespace } : {}) });
  }
}

/** A v2beta1Filter matching one field exactly, as the server parses it (protojson, enum by name). */
function equals(key: string, value: string): string {
  return JSON.stringify({ predicates: [{ key, operation: 'EQUALS', string_value: value }] });
}
