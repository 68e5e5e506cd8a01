import { formatDuration } from '../../duration.js';
import { dockerRunResourceArgs } from '../../docker/resources.js';
import { staticDockerResources } from './static-docker.js';
import { OrchestratorError } from '../../errors.js';
import type { OrchestratorContext, PlannedRequest, PlanRequest, PlanResult } from '../orchestrator.js';
import type { PrefectKwargs } from './kwargs.js';
import { noTargetError, type PrefectTarget } from './target.js';
import { planPackage } from '../../packaging/package-project.js';
import type { PrefectApi, WorkPool } from './api.js';
import { buildDeploymentBody, poolDeploymentSpec } from './deployment-body.js';
import { plannedSecretBlocks, prefectParameters } from './secret-blocks.js';
import { runsContainers } from './pull-steps.js';
import { planKubernetes } from './kubernetes/plan.js';
import { parseServerVersion, type ServerVersion } from './version.js';

/** The server plan may read; undefined: none configured (a fork's PR has no secrets), an offline plan. */
export interface PlanServer {
  api: PrefectApi;
  /** The API URL as it may be shown (no credentials). */
  shownUrl: string;
}

/** An offline plan shows the body the newest server takes. */
const OFFLINE_VERSION: ServerVersion = parseServerVersion('3.0.0');

/**
 * What package → deploy → run would do on Prefect. Only GETs reach the server (its
 * version, the work pool); a missing pool fails the plan as it would fail deploy.
 * Ids the server has not given yet are shown as `<…>`.
 */
export async function planPrefect(
  request: PlanRequest<PrefectKwargs, PrefectTarget>,
  ctx: OrchestratorContext,
  server: PlanServer | undefined,
): Promise<PlanResult> {
  const d = request.resolved;
  const { deploy, target, flowName } = d;
  const workPool = target.kind === 'pool' ? target.workPool : undefined;
  const actions: string[] = [];
  const requests: PlannedRequest[] = [];
  const api = server?.shownUrl ?? '$PREFECT_API_URL';
  let version: ServerVersion | undefined;
  let pool: WorkPool | undefined;
  if (server) {
    version = await server.api.version();
    actions.push(`read Prefect ${version.raw} at ${server.shownUrl}`);
    if (workPool) {
      pool = await server.api.readWorkPool(workPool);
      if (!pool) {
        throw new OrchestratorError(
          `Plan: work pool '${workPool}' does not exist on ${server.shownUrl}, so deploy would fail; create it (prefect work-pool create ${workPool} --type process) or fix deploy.work_pool`,
        );
      }
    }
  } else {
    actions.push('no Prefect server configured (PREFECT_API_URL): an offline plan, nothing read from a server');
  }

  // Without the server a pool's type is unknown: files and image as lolpop's package makes them, said so.
  const poolType = pool?.type;
  const buildImage = workPool && poolType ? runsContainers(poolType) : true;
  const condition = workPool && !poolType ? 'only if the work pool runs containers; its type needs the server' : undefined;
  const packaged = request.steps.includes('package')
    ? planPackage(d, { ...ctx, buildImage, condition, dockerfile: buildImage })
    : { files: [], kept: [], image: undefined, actions: [] };
  actions.push(...packaged.actions);

  const label = `${flowName}/${d.name}`;
  const parameters = prefectParameters(d, d.run.parameters);
  const secretNames = Object.keys(d.secretParameters);
  if (secretNames.length > 0 && (request.steps.includes('deploy') || request.steps.includes('run'))) {
    requests.push(...plannedSecretBlocks(d, api));
    actions.push(`write the secret parameters ${secretNames.join(', ')} into Prefect Secret blocks (created or updated); parameters carry only the blocks' names`);
  }
  // Without deploy, run looks the deployment up by name: it must exist already.
  if (request.steps.includes('deploy')) {
    if (target.kind === 'none') throw noTargetError('Plan');
    if (workPool) {
      const body = buildDeploymentBody(
        poolDeploymentSpec({
          deployment: d,
          workPool,
          // Offline the pool's type is unknown: the body is shown as for a process pool, and said so.
          poolType: poolType ?? 'process',
          pool,
          image: deploy.docker_image_name ?? packaged.image,
          flowId: `<id of flow ${flowName}>`,
          ci: ctx.ci,
          version: version ?? OFFLINE_VERSION,
        }),
        version ?? OFFLINE_VERSION,
      );
      requests.push({ method: 'POST', url: `${api}/flows/`, body: { name: flowName } });
      requests.push({ method: 'POST', url: `${api}/deployments/`, body });
      actions.push(
        `create or update deployment ${label} on work pool ${workPool}` +
          (poolType ? ` [${poolType}]` : ' (pull steps and job variables shown for a process pool; the pool type needs the server)'),
      );
    } else if (target.kind === 'static-docker') {
      const limits = dockerRunResourceArgs(staticDockerResources(d)).join(' ');
      actions.push(`replace container ${target.container} on the Docker host${limits ? ` (${limits})` : ''}; its flow.serve() registers ${label}`);
    } else {
      actions.push(`apply the prefect-secrets Secret and the flow's Deployment in namespace ${deploy.namespace} (server-side apply), wait for its rollout; its flow.serve() registers ${label}`);
      actions.push(
        ...(await planKubernetes(
          ctx,
          { deploymentName: d.name, kwargs: deploy, flowName, image: deploy.docker_image_name ?? packaged.image ?? d.image },
          server?.api.client.connection ?? { apiUrl: api },
        )),
      );
    }
  }

  if (!request.steps.includes('run')) return { files: packaged.files, kept: packaged.kept, image: packaged.image, actions, requests };
  requests.push({
    method: 'POST',
    url: `${api}/deployments/<id of ${label}>/create_flow_run`,
    body: { parameters, idempotency_key: d.idempotencyKey ?? '<a new key per call (no workflow run to key on)>' },
  });
  actions.push(`start a flow run of ${label} with parameters ${JSON.stringify(parameters)}`);
  if (d.run.wait) actions.push(`wait up to ${formatDuration(d.run.wait_timeout)} for it to end; fail unless it COMPLETED`);
  return { files: packaged.files, kept: packaged.kept, image: packaged.image, actions, requests };
}
