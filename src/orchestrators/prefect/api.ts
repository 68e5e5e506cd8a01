import { OrchestratorError } from '../../errors.js';
import type { PrefectClient } from './client.js';
import {
  BlockIdSchema,
  BlockSchemasSchema,
  DeploymentSchema,
  FlowIdSchema,
  FlowRunSchema,
  FlowRunsSchema,
  IgnoredSchema,
  LogsSchema,
  SetStateSchema,
  WorkPoolSchema,
} from './schemas.js';
import { buildDeploymentBody, type DeploymentSpec } from './deployment-body.js';
import { atLeast, parseServerVersion, type ServerVersion } from './version.js';

export interface FlowRunState {
  type: string;
  name: string;
  message?: string | null;
}
export interface FlowRun {
  id: string;
  name: string;
  state: FlowRunState | null;
  deployment_id?: string | null;
  work_pool_name?: string | null;
  /** What its worker runs it in; prefect-kubernetes: `[<cluster uid>:]<namespace>:<job name>` (flow-run-pods.ts). */
  infrastructure_pid?: string | null;
  /** When its flow code began (the engine sets it with RUNNING); null while nothing of it ran. */
  start_time?: string | null;
}
export interface Deployment {
  id: string;
  name: string;
  flow_id: string;
  work_pool_name?: string | null;
  entrypoint?: string | null;
  job_variables?: Record<string, unknown>;
  pull_steps?: Array<Record<string, unknown>> | null;
  paused?: boolean;
  status?: string | null;
  updated?: string | null;
  last_polled?: string | null;
}
export interface WorkPool {
  name: string;
  type: string;
  /** What its workers fill in per flow run: the job variables it declares (`variables.properties`) and where they go. */
  base_job_template?: { variables?: { properties?: Record<string, unknown> }; job_configuration?: Record<string, unknown> };
}
export interface LogEntry {
  level: number;
  message: string;
}

export const TERMINAL_STATES = ['COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED'];
export const ACTIVE_STATES = ['SCHEDULED', 'PENDING', 'RUNNING', 'PAUSED'];

/** The server's answer to a CANCELLING request (Prefect's OrchestrationResult). */
export interface CancelAnswer {
  /** ACCEPT, REJECT, ABORT or WAIT. */
  status: string;
  /** The run's state after the answer (REJECT of a scheduled run carries CANCELLED). */
  state?: string;
  reason?: string;
}

const seg = encodeURIComponent;

/** The Prefect resources this tool uses, one method per REST call of Prefect's REST API. */
export class PrefectApi {
  constructor(readonly client: PrefectClient) {}

  async version(): Promise<ServerVersion> {
    return parseServerVersion(await this.client.serverVersion());
  }

  /**
   * `POST /flows/` upserts by name: 201 created, 200 existed; either way the flow's id.
   * Registered once for the step (every workflow of it, see server-facts.ts): workflows
   * of the same flow, and callers asking while the request is under way, share its id.
   * A failure is not kept: the next caller asks again.
   */
  ensureFlow(name: string): Promise<string> {
    const flows = this.client.facts.flows;
    const known = flows.get(name);
    if (known) return known;
    const upsert = this.client
      .request('POST', 'flows/', { json: { name }, action: `register the flow '${name}'`, schema: FlowIdSchema })
      .then((res) => res.body.id);
    flows.set(name, upsert);
    upsert.catch(() => {
      if (flows.get(name) === upsert) flows.delete(name);
    });
    return upsert;
  }

  /**
   * A work pool, or undefined when there is none (404). A pool's type does not change
   * while a step runs: a found pool is read once for the step (every workflow of it, see
   * server-facts.ts), and callers asking while a read is under way share it. A missing
   * pool is asked again (a worker may be creating it).
   */
  readWorkPool(name: string): Promise<WorkPool | undefined> {
    const pools = this.client.facts.pools;
    const known = pools.get(name);
    if (known) return known;
    const read = this.client
      .request('GET', `work_pools/${seg(name)}`, { action: `read the work pool '${name}'`, schema: WorkPoolSchema, accept: [404] })
      .then((res) => (res.status === 404 ? undefined : res.body));
    pools.set(name, read);
    const forget = () => {
      if (pools.get(name) === read) pools.delete(name);
    };
    read.then((pool) => pool ?? forget(), forget);
    return read;
  }

  /**
   * Creates or replaces the value of the Secret block `name` (Prefect's `secret` block
   * type, on 2.x and 3.x): the block type by slug, then the named document (updated), or
   * the type's schema and a new document. The value is sent, never read back.
   */
  async upsertSecretBlock(name: string, value: string, raced = false): Promise<'created' | 'updated'> {
    const action = `write the Secret block '${name}'`;
    const existing = await this.client.request('GET', `block_types/slug/secret/block_documents/name/${seg(name)}`, {
      action: `read the Secret block '${name}'`,
      schema: BlockIdSchema,
      accept: [404],
    });
    if (existing.status !== 404) {
      await this.client.request('PATCH', `block_documents/${seg(existing.body.id)}`, {
        json: { data: { value }, merge_existing_data: false },
        action,
        schema: IgnoredSchema,
      });
      return 'updated';
    }
    const type = await this.client.request('GET', 'block_types/slug/secret', { action: "read Prefect's Secret block type", schema: BlockIdSchema });
    const schemas = await this.client.request('POST', 'block_schemas/filter', {
      json: { block_schemas: { block_type_id: { any_: [type.body.id] } }, limit: 1 },
      action: "read the Secret block type's schema",
      schema: BlockSchemasSchema,
    });
    const schema = schemas.body[0];
    if (!schema) throw new OrchestratorError(`Failed to ${action}: ${this.client.shownUrl} has no schema for its Secret block type`);
    const created = await this.client.request('POST', 'block_documents/', {
      json: { name, data: { value }, block_type_id: type.body.id, block_schema_id: schema.id, is_anonymous: false },
      action,
      schema: BlockIdSchema,
      accept: raced ? [] : [409],
    });
    // 409: another workflow of this step created it meanwhile; update that one.
    if (created.status === 409) return this.upsertSecretBlock(name, value, true);
    return 'created';
  }

  /** Deletes the Secret block `name`; false when there is none. */
  async deleteSecretBlock(name: string): Promise<boolean> {
    const found = await this.client.request('GET', `block_types/slug/secret/block_documents/name/${seg(name)}`, {
      action: `read the Secret block '${name}'`,
      schema: BlockIdSchema,
      accept: [404],
    });
    if (found.status === 404) return false;
    const res = await this.client.request('DELETE', `block_documents/${seg(found.body.id)}`, { action: `delete the Secret block '${name}'`, schema: IgnoredSchema, accept: [404] });
    return res.status !== 404;
  }

  /** `POST /deployments/` upserts on flow_id + name. */
  async upsertDeployment(spec: DeploymentSpec, version: ServerVersion): Promise<Deployment> {
    const res = await this.client.request('POST', 'deployments/', {
      json: buildDeploymentBody(spec, version),
      action: `create the deployment '${spec.name}'`,
      schema: DeploymentSchema,
    });
    return res.body;
  }

  async readDeploymentByName(flow: string, name: string): Promise<Deployment | undefined> {
    const res = await this.client.request('GET', `deployments/name/${seg(flow)}/${seg(name)}`, {
      action: `read the deployment '${flow}/${name}'`,
      schema: DeploymentSchema,
      accept: [404],
    });
    return res.status === 404 ? undefined : res.body;
  }

  async readDeployment(id: string): Promise<Deployment | undefined> {
    const res = await this.client.request('GET', `deployments/${seg(id)}`, {
      action: `read the deployment ${id}`,
      schema: DeploymentSchema,
      accept: [404],
    });
    return res.status === 404 ? undefined : res.body;
  }

  async createFlowRun(
    deploymentId: string,
    body: { parameters: Record<string, unknown>; idempotency_key?: string; tags?: string[]; name?: string; job_variables?: Record<string, unknown> },
    version: ServerVersion,
  ): Promise<{ run: FlowRun; created: boolean }> {
    const json: Record<string, unknown> = { parameters: body.parameters };
    if (body.idempotency_key) json.idempotency_key = body.idempotency_key;
    if (body.tags) json.tags = body.tags;
    if (body.name) json.name = body.name;
    if (body.job_variables) {
      if (!atLeast(version, 2, 17)) {
        throw new OrchestratorError(`run job_variables need a Prefect server 2.17 or newer; this one is ${version.raw}`);
      }
      json.job_variables = body.job_variables;
    }
    const res = await this.client.request('POST', `deployments/${seg(deploymentId)}/create_flow_run`, {
      json,
      action: 'create a flow run',
      schema: FlowRunSchema,
    });
    return { run: res.body, created: res.status === 201 };
  }

  /** `deadline` (epoch ms): the call ends by then, when the caller's wait is shorter than a call's budget. */
  async readFlowRun(id: string, deadline?: number): Promise<FlowRun> {
    return (await this.client.request('GET', `flow_runs/${seg(id)}`, { action: `read the flow run ${id}`, schema: FlowRunSchema, deadline })).body;
  }

  /** The last log lines of a run, oldest first, for a failure message. */
  async tailLogs(flowRunId: string, limit = 20): Promise<LogEntry[]> {
    const res = await this.client.request('POST', 'logs/filter', {
      json: { logs: { flow_run_id: { any_: [flowRunId] } }, sort: 'TIMESTAMP_DESC', limit },
      action: 'read the flow run logs',
      schema: LogsSchema,
    });
    return [...res.body].reverse();
  }

  async activeFlowRuns(deploymentId: string, deadline?: number): Promise<FlowRun[]> {
    const res = await this.client.request('POST', 'flow_runs/filter', {
      json: { flow_runs: { deployment_id: { any_: [deploymentId] }, state: { type: { any_: [...ACTIVE_STATES, 'CANCELLING'] } } }, limit: 200 },
      action: 'list the deployment flow runs',
      schema: FlowRunsSchema,
      deadline,
    });
    return res.body;
  }

  /**
   * Asks for cancellation. ACCEPT: CANCELLING, the worker or runner ends it; REJECT with
   * CANCELLED: a scheduled run with no infrastructure, cancelled at once; ABORT: already
   * in a terminal state.
   */
  async cancelFlowRun(id: string, deadline?: number): Promise<CancelAnswer> {
    const res = await this.client.request('POST', `flow_runs/${seg(id)}/set_state`, {
      json: { state: { type: 'CANCELLING', name: 'Cancelling' }, force: false },
      action: `cancel the flow run ${id}`,
      schema: SetStateSchema,
      accept: [404],
      deadline,
    });
    if (res.status === 404) return { status: 'ABORT', reason: 'flow run not found' };
    return { status: res.body.status, state: res.body.state?.type, reason: res.body.details?.reason ?? undefined };
  }

  /**
   * Ends a CANCELLING run whose infrastructure this tool removed, as Prefect's own worker
   * does after killing it (`force`: CANCELLING → CANCELLED is a worker's or runner's move).
   */
  async markCancelled(id: string, message: string, deadline?: number): Promise<CancelAnswer> {
    const res = await this.client.request('POST', `flow_runs/${seg(id)}/set_state`, {
      json: { state: { type: 'CANCELLED', name: 'Cancelled', message }, force: true },
      action: `mark the flow run ${id} cancelled`,
      schema: SetStateSchema,
      deadline,
    });
    return { status: res.body.status, state: res.body.state?.type, reason: res.body.details?.reason ?? undefined };
  }

  async pauseDeployment(id: string, version: ServerVersion): Promise<void> {
    await this.setPaused(id, true, version);
  }

  /** Undoes a pause, by stop or by a served process's pause_on_shutdown. */
  async resumeDeployment(id: string, version: ServerVersion): Promise<void> {
    await this.setPaused(id, false, version);
  }

  private async setPaused(id: string, paused: boolean, version: ServerVersion): Promise<void> {
    const action = `${paused ? 'pause' : 'resume'} the deployment`;
    if (version.major >= 3) {
      await this.client.request('PATCH', `deployments/${seg(id)}`, { json: { paused }, action, schema: IgnoredSchema });
    } else if (atLeast(version, 2, 19)) {
      await this.client.request('POST', `deployments/${seg(id)}/${paused ? 'pause' : 'resume'}_deployment`, { action, schema: IgnoredSchema });
    } else {
      await this.client.request('POST', `deployments/${seg(id)}/set_schedule_${paused ? 'inactive' : 'active'}`, { action, schema: IgnoredSchema });
    }
  }

  /** False when it was already gone (404). */
  async deleteDeployment(id: string): Promise<boolean> {
    const res = await this.client.request('DELETE', `deployments/${seg(id)}`, { action: 'delete the deployment', schema: IgnoredSchema, accept: [404] });
    return res.status !== 404;
  }
}
