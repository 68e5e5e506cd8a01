import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * GitHub's own description of api.github.com (npm @octokit/openapi, OpenAPI 3.0),
 * turned into a checker of requests and responses: a wrong method, path, query,
 * body or response shape is a violation, whatever our own code believes.
 */

type Json = unknown;
interface Operation {
  operationId: string;
  parameters?: Array<{ $ref?: string; name?: string; in?: string; required?: boolean; schema?: Json }>;
  requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Json }> }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, Json>>;
}

export interface MatchedOperation {
  operationId: string;
  template: string;
  method: string;
  pathParams: Record<string, string>;
  operation: Operation;
}

// ajv-formats is CommonJS with `exports.default`: NodeNext sees the module object.
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

const SPEC_ID = 'https://api.github.com/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * OpenAPI 3.0 schema → JSON Schema that Ajv checks: `nullable` becomes a `null`
 * type (also where there is no `type`, beside allOf/anyOf, which Ajv refuses), and
 * local $refs point into the spec registered under SPEC_ID.
 */
export function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'nullable' || k === 'discriminator' || k === 'example' || k === 'examples') continue;
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out.$ref = SPEC_ID + v;
    else out[k] = toJsonSchema(v);
  }
  if ((node as { nullable?: boolean }).nullable !== true) return out;
  if (typeof out.type === 'string') {
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return { ...out, type: [out.type, 'null'] };
  }
  return { anyOf: [out, { type: 'null' }] };
}

export class GitHubOpenApi {
  private readonly ajv: Ajv;
  private readonly coercing: Ajv;
  private readonly routes: Array<{ template: string; re: RegExp; names: string[] }>;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly spec: Spec) {
    const options = { strict: false, allErrors: true, validateSchema: false } as const;
    this.ajv = new Ajv(options);
    this.coercing = new Ajv({ ...options, coerceTypes: true });
    for (const ajv of [this.ajv, this.coercing]) {
      addFormats(ajv);
      for (const f of ['int64', 'int32', 'double', 'repo.nwo', 'binary', 'timestamp']) ajv.addFormat(f, true);
      ajv.addSchema({ $id: SPEC_ID, components: toJsonSchema(spec.components) });
    }
    this.routes = Object.keys(spec.paths).map((template) => {
      const names: string[] = [];
      const re = new RegExp(
        '^' +
          template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, name: string) => {
            names.push(name);
            return '([^/]+)';
          }) +
          '$',
      );
      return { template, re, names };
    });
  }

  /** The operation for `method path`, or why there is none (unknown path, or method). */
  match(method: string, pathname: string): MatchedOperation | { error: string } {
    const m = method.toLowerCase();
    // Literal templates first: /repos/{o}/{r}/issues/comments beats /repos/{o}/{r}/issues/{n}.
    const hits = this.routes.filter((r) => r.re.test(pathname)).sort((a, b) => literalLength(b.template) - literalLength(a.template));
    if (hits.length === 0) return { error: `${method} ${pathname}: no such path in GitHub's REST API` };
    for (const route of hits) {
      const operation = this.spec.paths[route.template]?.[m];
      if (!operation) continue;
      const values = route.re.exec(pathname)!.slice(1).map(decodeURIComponent);
      const pathParams = Object.fromEntries(route.names.map((n, i) => [n, values[i]!]));
      return { operationId: operation.operationId, template: route.template, method: m, pathParams, operation };
    }
    const allowed = hits.flatMap((r) => Object.keys(this.spec.paths[r.template] ?? {}).filter((k) => METHODS.includes(k)));
    return { error: `${method} ${pathname}: GitHub's ${hits[0]!.template} takes ${allowed.join(', ').toUpperCase()}, not ${method}` };
  }

  /** Every way the request breaks the description; [] when it conforms. */
  validateRequest(op: MatchedOperation, query: URLSearchParams, body: Json | undefined, contentType: string): string[] {
    const errors: string[] = [];
    const params = (op.operation.parameters ?? []).map((p) => (p.$ref ? this.resolve(p.$ref) : p)) as Array<{ name: string; in: string; required?: boolean; schema?: Json }>;
    for (const where of ['path', 'query'] as const) {
      const declared = params.filter((p) => p.in === where);
      const values: Record<string, Json> = where === 'path' ? { ...op.pathParams } : Object.fromEntries(query.entries());
      const schema = {
        type: 'object',
        properties: Object.fromEntries(declared.map((p) => [p.name, toJsonSchema(p.schema ?? {})])),
        required: declared.filter((p) => p.required).map((p) => p.name),
        additionalProperties: false,
      };
      errors.push(...this.check(this.coercing, `${op.operationId} ${where}`, schema, values).map((e) => `${where} parameters: ${e}`));
    }
    const rb = op.operation.requestBody;
    if (!rb) {
      if (body !== undefined) errors.push(`${op.operationId} takes no request body`);
    } else if (body === undefined) {
      if (rb.required) errors.push(`${op.operationId} needs a request body`);
    } else {
      const json = rb.content['application/json'];
      if (!json) errors.push(`${op.operationId}: no application/json body in the description`);
      else if (!contentType.startsWith('application/json')) errors.push(`${op.operationId}: body sent as '${contentType}', not application/json`);
      else errors.push(...this.check(this.ajv, `${op.operationId} body`, toJsonSchema(json.schema), body).map((e) => `body: ${e}`));
    }
    return errors;
  }

  /**
   * Every way the response breaks the description. A status GitHub does not
   * document for the operation is accepted only as an error (4xx) in GitHub's
   * basic-error shape: the description does not list every refusal GitHub sends
   * (a read-only token's 403 on PATCH of a comment, for one).
   */
  validateResponse(op: MatchedOperation, status: number, body: Json): string[] {
    let response = op.operation.responses[String(status)];
    if (response?.$ref) response = this.resolve(response.$ref) as typeof response;
    if (!response) {
      if (status >= 400 && status < 500) return this.check(this.ajv, 'basic-error', { $ref: `${SPEC_ID}#/components/schemas/basic-error` }, body).map((e) => `response ${status}: ${e}`);
      return [`${op.operationId}: status ${status} is not a documented response (${Object.keys(op.operation.responses).join(', ')})`];
    }
    const json = response.content?.['application/json'];
    if (!json) return body === undefined || body === '' ? [] : [`${op.operationId} ${status}: the description has no body for this status`];
    return this.check(this.ajv, `${op.operationId} ${status}`, toJsonSchema(json.schema), body).map((e) => `response ${status}: ${e}`);
  }

  private check(ajv: Ajv, key: string, schema: Json, data: Json): string[] {
    let validate = this.cache.get(key + (ajv === this.coercing ? '~' : ''));
    if (!validate) {
      validate = ajv.compile(schema as object);
      this.cache.set(key + (ajv === this.coercing ? '~' : ''), validate);
    }
    if (validate(data)) return [];
    return (validate.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }

  private resolve(ref: string): Json {
    const parts = ref.replace(/^#\//, '').split('/');
    let node: Json = this.spec;
    for (const p of parts) node = (node as Record<string, Json>)[p.replace(/~1/g, '/').replace(/~0/g, '~')];
    return node;
  }
}

function literalLength(template: string): number {
  return template.replace(/\{[^}]+\}/g, '').length;
}

let loaded: GitHubOpenApi | undefined;

/** The api.github.com description, read once per test file (13 MB of JSON). */
export function githubOpenApi(): GitHubOpenApi {
  if (!loaded) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    loaded = new GitHubOpenApi(JSON.parse(readFileSync(file, 'utf8')) as Spec);
  }
  return loaded;
}
