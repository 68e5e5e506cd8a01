import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { sharedKfp } from './helpers.js';

/**
 * A stand-in for the KFP API server, built at test time from the official v2beta1 OpenAPI
 * description (../shared/kfp, never copied here). Strict both ways:
 * - a request's path and method must be an operation of the description; its query
 *   parameters must be that operation's (unknown ones refused), with their types; a
 *   JSON body must match the operation's body schema with unknown fields refused (the
 *   server parses with protojson DiscardUnknown:false); a `filter` must be a v2beta1Filter;
 * - each answer the stand-in sends is validated against the operation's response
 *   schema too: a bad one becomes a 500 "STAND-IN BUG", so the stand-in cannot drift.
 * Behaviour copied from the API server (KFP.md: backend/src/apiserver, release-2.17):
 * upload takes names in the query string and one multipart part `uploadfile`; upload
 * errors are {error_message, error_details} with 409 on a taken name; the IR must have
 * schemaVersion 2.1.0, a name and a root; runs need a display name and parameters the
 * pipeline declares; answers use proto names (snake_case) and leave empty fields out.
 * Runs move PENDING → RUNNING → SUCCEEDED (or FAILED when params_json has "fail": true)
 * one step per read; terminate moves them CANCELING → CANCELED.
 */

// ajv-formats is CommonJS with `exports.default`: NodeNext sees the module object.
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  template: string;
  match: RegExp;
  names: string[];
  query: Map<string, { type: string; format?: string }>;
  body?: ValidateFunction;
  response: ValidateFunction;
  error: ValidateFunction;
  id: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  operation?: string;
  status: number;
}

export interface StandInOptions {
  /** Required on every request when set: `authorization: Bearer <token>`. */
  token?: string;
  /** Required on every request when set: this cookie (name=value) in the Cookie header. */
  cookie?: string;
}

/** kfp.Client sends the filter operation as its proto number (v2beta1PredicateOperation). */
const OPERATION_NUMBERS: Record<number, string> = { 0: 'OPERATION_UNSPECIFIED', 1: 'EQUALS', 2: 'NOT_EQUALS', 3: 'GREATER_THAN', 5: 'GREATER_THAN_EQUALS', 6: 'LESS_THAN', 7: 'LESS_THAN_EQUALS', 8: 'IN', 9: 'IS_SUBSTRING' };

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly upload = false,
  ) {
    super(message);
  }
}

export class KfpStandIn {
  readonly requests: RecordedRequest[] = [];
  /** Answers that failed their own schema: must stay empty. */
  readonly standInBugs: string[] = [];
  private readonly server: Server;
  private readonly operations: Operation[];
  private readonly filter: ValidateFunction;
  private readonly pipelines = new Map<string, Json>();
  private readonly versions = new Map<string, Json & { spec: Json }>();
  private readonly experiments = new Map<string, Json>();
  private readonly runs = new Map<string, Json & { reads: number; fail: boolean }>();
  private readonly recurring = new Map<string, Json>();

  constructor(private readonly options: StandInOptions = {}) {
    const swagger = JSON.parse(readFileSync(path.join(sharedKfp(), 'kfp_api_v2beta1.swagger.json'), 'utf8')) as Json;
    const definitions = strict(structuredClone(swagger.definitions)) as Json;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const format of ['int32', 'int64', 'byte', 'double', 'float']) ajv.addFormat(format, true);
    ajv.addSchema({ $id: 'kfp', definitions });
    const compile = (schema: unknown): ValidateFunction => ajv.compile(JSON.parse(JSON.stringify(strict(structuredClone(schema))).replaceAll('"#/definitions/', '"kfp#/definitions/')));
    this.filter = compile({ $ref: '#/definitions/v2beta1Filter' });
    this.operations = [];
    for (const [template, methods] of Object.entries(swagger.paths as Record<string, Record<string, Json>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const parameters = (op.parameters ?? []) as Array<Json & { name: string; in: string; schema?: unknown; type?: string; format?: string }>;
        const names: string[] = [];
        const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name: string) => {
          names.push(name);
          return '([^/:]+)';
        });
        const responses = op.responses as Record<string, { schema?: unknown }>;
        const body = parameters.find((p) => p.in === 'body');
        this.operations.push({
          method: method.toUpperCase(),
          template,
          match: new RegExp(`^${pattern}$`),
          names,
          query: new Map(parameters.filter((p) => p.in === 'query').map((p) => [p.name, { type: p.type ?? 'string', format: p.format }])),
          ...(body ? { body: compile(body.schema) } : {}),
          response: compile(responses['200']?.schema ?? {}),
          error: compile(responses.default?.schema ?? {}),
          id: String(op.operationId),
        });
      }
    }
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The requests an operation received. */
  calls(operationId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.operation === operationId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const record: RecordedRequest = { method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, status: 0 };
    this.requests.push(record);
    let op: Operation | undefined;
    let status = 200;
    let answer: unknown;
    try {
      this.authorize(req);
      const route = this.route(req.method ?? '', url.pathname);
      op = route.op;
      record.operation = op.id;
      this.checkQuery(op, url.searchParams);
      let body: unknown;
      if (op.body) {
        body = parseJson(raw);
        record.body = body;
        if (!op.body(body)) throw new Refused(400, `invalid request body for ${op.id}: ${describe(op.body)}`);
      }
      answer = this.behave(op.id, route.params, url.searchParams, body, req, raw);
      if (!op.response(answer)) {
        this.standInBugs.push(`${op.id}: ${describe(op.response)}`);
        throw new Refused(500, `STAND-IN BUG: the answer to ${op.id} does not match the description: ${describe(op.response)}`);
      }
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      status = error.status;
      answer = error.upload ? { error_message: error.message, error_details: error.message } : { code: grpcCode(status), message: error.message };
      if (!error.upload && op && !op.error(answer)) this.standInBugs.push(`${op.id} error: ${describe(op.error)}`);
    }
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  }

  private authorize(req: IncomingMessage): void {
    if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) throw new Refused(401, 'Unauthenticated: no valid bearer token');
    if (this.options.cookie && !(req.headers.cookie ?? '').split(/;\s*/).includes(this.options.cookie)) throw new Refused(401, 'Unauthenticated: no session cookie');
  }

  private route(method: string, pathname: string): { op: Operation; params: Record<string, string> } {
    for (const op of this.operations) {
      const match = op.match.exec(pathname);
      if (match && op.method === method) return { op, params: Object.fromEntries(op.names.map((n, i) => [n, decodeURIComponent(match[i + 1]!)])) };
    }
    throw new Refused(404, `STAND-IN: ${method} ${pathname} is not an operation of the v2beta1 description`);
  }

  private checkQuery(op: Operation, query: URLSearchParams): void {
    for (const [name, value] of query) {
      const param = op.query.get(name);
      if (!param) throw new Refused(400, `unknown query parameter '${name}' for ${op.id}`);
      if (param.type === 'integer' && !/^-?\d+$/.test(value)) throw new Refused(400, `query parameter '${name}' of ${op.id} must be an integer, got '${value}'`);
      if (name === 'filter') {
        const filter = normaliseFilter(parseJson(value));
        if (!this.filter(filter)) throw new Refused(400, `invalid filter: ${describe(this.filter)}`);
      }
    }
  }

  /** The server's behaviour for the operations a deploy tool and kfp.Client use. */
  private behave(id: string, params: Record<string, string>, query: URLSearchParams, body: unknown, req: IncomingMessage, raw: string): unknown {
    const b = body as Json;
    const now = new Date().toISOString();
    switch (id) {
      case 'HealthzService_GetHealthz':
        return { multi_user: false, pipeline_store: 'database' };
      case 'PipelineService_ListPipelines':
        return list('pipelines', filtered([...this.pipelines.values()], query));
      case 'PipelineService_GetPipeline':
        return this.get(this.pipelines, params.pipeline_id!, 'pipeline');
      case 'PipelineService_CreatePipeline':
        return this.addPipeline(String(b.display_name ?? b.name ?? ''), String(b.name ?? b.display_name ?? ''), b.description as string | undefined, false);
      case 'UploadPipeline': {
        const spec = uploadedSpec(req, raw);
        const name = query.get('name') || query.get('display_name') || 'pipeline.yaml';
        const pipeline = this.addPipeline(query.get('display_name') || name, name, query.get('description') ?? undefined, true);
        this.addVersion(String(pipeline.pipeline_id), name, query.get('description') ?? undefined, spec);
        return pipeline;
      }
      case 'UploadPipelineVersion': {
        const spec = uploadedSpec(req, raw);
        const pipelineId = query.get('pipelineid');
        if (!pipelineId || !this.pipelines.has(pipelineId)) throw new Refused(400, `Failed to upload a version: pipeline ${pipelineId} not found`, true);
        return this.addVersion(pipelineId, query.get('name') || query.get('display_name') || 'pipeline.yaml', query.get('description') ?? undefined, spec);
      }
      case 'PipelineService_ListPipelineVersions':
        return list('pipeline_versions', filtered([...this.versions.values()].filter((v) => v.pipeline_id === params.pipeline_id), query).map(publicVersion));
      case 'PipelineService_GetPipelineVersion':
        return publicVersion(this.get(this.versions, params.pipeline_version_id!, 'pipeline version') as Json & { spec: Json });
      case 'PipelineService_DeletePipelineVersion':
        this.get(this.versions, params.pipeline_version_id!, 'pipeline version');
        this.versions.delete(params.pipeline_version_id!);
        return {};
      case 'PipelineService_DeletePipeline':
        this.get(this.pipelines, params.pipeline_id!, 'pipeline');
        if ([...this.versions.values()].some((v) => v.pipeline_id === params.pipeline_id) && query.get('cascade') !== 'true') {
          throw new Refused(400, `Failed to delete pipeline ${params.pipeline_id}: it has versions; delete them first or pass cascade=true`);
        }
        this.pipelines.delete(params.pipeline_id!);
        return {};
      case 'ExperimentService_ListExperiments':
        return list('experiments', filtered([...this.experiments.values()], query));
      case 'ExperimentService_GetExperiment':
        return this.get(this.experiments, params.experiment_id!, 'experiment');
      case 'ExperimentService_CreateExperiment': {
        if (!b.display_name) throw new Refused(400, 'Experiment name cannot be empty');
        const experiment = { experiment_id: randomUUID(), display_name: b.display_name, created_at: now, storage_state: 'AVAILABLE', ...(b.namespace ? { namespace: b.namespace } : {}) };
        this.experiments.set(experiment.experiment_id, experiment);
        return experiment;
      }
      case 'RunService_CreateRun':
        return publicRun(this.createRun(b, now));
      case 'RunService_ListRuns':
        return list('runs', filtered([...this.runs.values()].filter((r) => !query.get('experiment_id') || r.experiment_id === query.get('experiment_id')), query).map(publicRun));
      case 'RunService_GetRun':
        return publicRun(this.advance(this.get(this.runs, params.run_id!, 'run') as Json & { reads: number; fail: boolean }));
      case 'RunService_TerminateRun': {
        const run = this.get(this.runs, params.run_id!, 'run');
        if (!['SUCCEEDED', 'FAILED', 'CANCELED', 'SKIPPED'].includes(String(run.state))) run.state = 'CANCELING';
        return {};
      }
      case 'RunService_ArchiveRun':
        this.get(this.runs, params.run_id!, 'run').storage_state = 'ARCHIVED';
        return {};
      case 'RunService_DeleteRun':
        this.get(this.runs, params.run_id!, 'run');
        this.runs.delete(params.run_id!);
        return {};
      case 'RecurringRunService_CreateRecurringRun': {
        this.checkRunTarget(b);
        if (!b.display_name) throw new Refused(400, 'Recurring run name cannot be empty');
        if (!b.trigger) throw new Refused(400, 'a recurring run needs a trigger (cron or periodic)');
        const recurring = { ...b, recurring_run_id: randomUUID(), created_at: now, updated_at: now, status: b.mode === 'DISABLE' ? 'DISABLED' : 'ENABLED' };
        this.recurring.set(recurring.recurring_run_id, recurring);
        return recurring;
      }
      case 'RecurringRunService_ListRecurringRuns':
        return list('recurringRuns', filtered([...this.recurring.values()].filter((r) => !query.get('experiment_id') || r.experiment_id === query.get('experiment_id')), query));
      case 'RecurringRunService_DisableRecurringRun': {
        const recurring = this.get(this.recurring, params.recurring_run_id!, 'recurring run');
        Object.assign(recurring, { mode: 'DISABLE', status: 'DISABLED' });
        return {};
      }
      case 'RecurringRunService_DeleteRecurringRun':
        this.get(this.recurring, params.recurring_run_id!, 'recurring run');
        this.recurring.delete(params.recurring_run_id!);
        return {};
      default:
        throw new Refused(501, `STAND-IN: ${id} is in the description but not implemented here`);
    }
  }

  private addPipeline(displayName: string, name: string, description: string | undefined, upload: boolean): Json {
    if (!displayName) throw new Refused(400, 'Pipeline name cannot be empty', upload);
    if ([...this.pipelines.values()].some((p) => p.display_name === displayName)) throw new Refused(409, `The pipeline name '${displayName}' already exists`, upload);
    const pipeline = { pipeline_id: randomUUID(), name, display_name: displayName, created_at: new Date().toISOString(), ...(description ? { description } : {}) };
    this.pipelines.set(pipeline.pipeline_id, pipeline);
    return pipeline;
  }

  private addVersion(pipelineId: string, name: string, description: string | undefined, spec: Json): Json {
    if ([...this.versions.values()].some((v) => v.pipeline_id === pipelineId && v.display_name === name)) {
      throw new Refused(409, `The pipeline version name '${name}' already exists in pipeline ${pipelineId}`, true);
    }
    const version = { pipeline_id: pipelineId, pipeline_version_id: randomUUID(), name, display_name: name, created_at: new Date().toISOString(), spec, ...(description ? { description } : {}) };
    this.versions.set(version.pipeline_version_id, version);
    return publicVersion(version);
  }

  /** The run's pipeline: an inline spec or a stored version; returns its PipelineSpec. */
  private checkRunTarget(b: Json): Json {
    const ref = b.pipeline_version_reference as Json | undefined;
    if (b.pipeline_spec) {
      const inline = b.pipeline_spec as Json;
      return checkIr((inline.pipeline_spec as Json | undefined) ?? inline);
    }
    if (!ref?.pipeline_version_id) throw new Refused(400, 'Invalid input error: a run needs a pipeline_spec or a pipeline_version_reference with a pipeline_version_id');
    const version = this.versions.get(String(ref.pipeline_version_id));
    if (!version || version.pipeline_id !== ref.pipeline_id) throw new Refused(404, `pipeline version ${String(ref.pipeline_version_id)} not found`);
    return version.spec;
  }

  private createRun(b: Json, now: string): Json & { reads: number; fail: boolean } {
    if (!b.display_name) throw new Refused(400, 'Invalid input error: Run name cannot be empty');
    const spec = this.checkRunTarget(b);
    const parameters = ((b.runtime_config as Json | undefined)?.parameters ?? {}) as Json;
    checkParameters(spec, parameters);
    const experimentId = String(b.experiment_id ?? '');
    if (experimentId && !this.experiments.has(experimentId)) throw new Refused(404, `experiment ${experimentId} not found`);
    const paramsJson = typeof parameters.params_json === 'string' ? parameters.params_json : '{}';
    const run = {
      ...b,
      run_id: randomUUID(),
      created_at: now,
      scheduled_at: now,
      storage_state: 'AVAILABLE',
      state: 'PENDING',
      reads: 0,
      fail: /"fail":\s*true/.test(paramsJson),
    };
    this.runs.set(run.run_id, run);
    return run;
  }

  /** One step of the scripted life of a run per read. */
  private advance(run: Json & { reads: number; fail: boolean }): Json {
    run.reads += 1;
    const next: Record<string, string> = { PENDING: 'RUNNING', RUNNING: run.fail ? 'FAILED' : 'SUCCEEDED', CANCELING: 'CANCELED' };
    const state = next[String(run.state)];
    if (state && run.reads > 1) {
      run.state = state;
      run.state_history = [...((run.state_history as unknown[]) ?? []), { update_time: new Date().toISOString(), state }];
      if (['SUCCEEDED', 'FAILED', 'CANCELED'].includes(state)) run.finished_at = new Date().toISOString();
      if (state === 'FAILED') {
        run.error = { code: 9, message: 'Pipeline run failed: task lolpop-run failed' };
        run.run_details = {
          task_details: [
            { run_id: run.run_id, task_id: randomUUID(), display_name: 'build_all', state: 'FAILED', error: { code: 2, message: 'ValueError: the churn data has no rows (exit code 1)' } },
          ],
        };
      }
    }
    return run;
  }

  private get<T extends Json>(store: Map<string, T>, id: string, what: string): T {
    const value = store.get(id);
    if (!value) throw new Refused(404, `${what} ${id} not found`);
    return value;
  }
}

/** additionalProperties:false on every object schema that lists its properties and says nothing else. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, strict(v)])) : strict(value);
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** protojson takes lowerCamel names and enum numbers too: the form the schema checks is the proto name. */
function normaliseFilter(filter: unknown): unknown {
  const predicates = ((filter as Json | undefined)?.predicates ?? []) as Json[];
  return {
    ...(filter as Json),
    predicates: predicates.map((p) =>
      Object.fromEntries(
        Object.entries(p).map(([k, v]) => {
          const key = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
          return [key, key === 'operation' && typeof v === 'number' ? OPERATION_NUMBERS[v] : v];
        }),
      ),
    ),
  };
}

/** The server's filtering of list calls, for the predicates this API's clients send. */
function filtered<T extends Json>(items: T[], query: URLSearchParams): T[] {
  const text = query.get('filter');
  if (!text) return items;
  const filter = normaliseFilter(JSON.parse(text)) as { predicates: Json[] };
  return items.filter((item) =>
    filter.predicates.every((p) => {
      const value = String(item[String(p.key)] ?? '');
      if (p.operation === 'EQUALS') return value === p.string_value;
      if (p.operation === 'IS_SUBSTRING') return value.includes(String(p.string_value));
      throw new Refused(400, `STAND-IN: filter operation ${String(p.operation)} is not implemented here`);
    }),
  );
}

/** A list answer as the server writes it: the key left out when empty (EmitUnpopulated false). */
function list(key: string, items: unknown[]): Json {
  return items.length > 0 ? { [key]: items, total_size: items.length } : {};
}

/** A version as the server answers it: its IR under pipeline_spec. */
function publicVersion(version: Json & { spec: Json }): Json {
  const { spec, ...rest } = version;
  return { ...rest, pipeline_spec: spec };
}

/** A run as the server answers it, without the stand-in's own bookkeeping (reads, fail). */
function publicRun(run: Json): Json {
  const copy = { ...run };
  delete copy.reads;
  delete copy.fail;
  return copy;
}

/** The IR of an upload: one multipart part named uploadfile, YAML or JSON by its file name. */
function uploadedSpec(req: IncomingMessage, raw: string): Json {
  const boundary = /boundary=("?)([^";]+)\1/.exec(req.headers['content-type'] ?? '')?.[2];
  if (!boundary) throw new Refused(400, 'Failed to read the uploaded file: the request is not multipart/form-data', true);
  const parts = raw.split(`--${boundary}`).slice(1, -1);
  if (parts.length !== 1) throw new Refused(400, `Failed to read the uploaded file: expected one part, got ${parts.length}`, true);
  const [head, ...rest] = parts[0]!.replace(/^\r\n/, '').split('\r\n\r\n');
  const name = /name="([^"]+)"/.exec(head ?? '')?.[1];
  const filename = /filename="([^"]+)"/.exec(head ?? '')?.[1] ?? '';
  if (name !== 'uploadfile') throw new Refused(400, `Failed to read the uploaded file: the part is '${name}', not 'uploadfile'`, true);
  if (!/\.(ya?ml|json)$/.test(filename)) throw new Refused(400, `unexpected file format '${filename}'`, true);
  const text = rest.join('\r\n\r\n').replace(/\r\n$/, '');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Json);
  return checkIr(docs[0] ?? {}, true);
}

/** What the server checks of an IR on upload (template/v2_template.go). */
function checkIr(spec: Json, upload = false): Json {
  const info = spec.pipelineInfo as Json | undefined;
  if (!info?.name || !spec.root) throw new Refused(400, 'unknown template format: pipeline spec is invalid', upload);
  if (spec.schemaVersion !== '2.1.0') throw new Refused(400, `KFP only supports schema version 2.1.0, but the pipeline spec has version ${String(spec.schemaVersion)}`, upload);
  if (!/[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/.test(String(info.name))) throw new Refused(400, `pipeline name ${String(info.name)} is invalid`, upload);
  return spec;
}

/** The server's validatePipelineJobInputs for the parameters of a run. */
function checkParameters(spec: Json, parameters: Json): void {
  const declared = (((spec.root as Json).inputDefinitions as Json | undefined)?.parameters ?? {}) as Record<string, Json>;
  for (const [name, def] of Object.entries(declared)) {
    if (!(name in parameters)) {
      if (!def.isOptional && def.defaultValue === undefined) throw new Refused(400, `parameter ${name} is not optional, yet has neither default value nor user provided value`);
    } else if (def.parameterType === 'STRING' && typeof parameters[name] !== 'string') {
      throw new Refused(400, `input parameter ${name} requires type STRING, got ${typeof parameters[name]}`);
    }
  }
  const extra = Object.keys(parameters).filter((name) => !(name in declared));
  if (extra.length > 0) throw new Refused(400, `parameter(s) provided are not required by pipeline: ${extra.join(', ')}`);
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    throw new Refused(400, `the body is not JSON: ${text.slice(0, 80)}`);
  }
}

function describe(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : ''}`).join('; ');
}

function grpcCode(status: number): number {
  return ({ 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 501: 12 } as Record<number, number>)[status] ?? 13;
}
