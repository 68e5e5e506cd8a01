import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { registryOf } from '../../../docker/args.js';
import { ConfigError, OrchestratorError } from '../../../errors.js';
import { readProjectFile, TEXT_FILE_MAX_BYTES } from '../../../project-files.js';
import type { Logger } from '../../../logger.js';
import { writePackageFiles } from '../../../packaging/files.js';
import { collectionPath, describe, KubernetesUnreachable, objectPath, type KubeApi } from '../../../kubernetes/client.js';
import { deploymentProblem, waitForRollout } from '../../../kubernetes/rollout.js';
import { kubernetesName } from '../../../kubernetes/names.js';
import type { PrefectConnection } from '../connection.js';
import {
  flowDeploymentManifest,
  pullSecretManifest,
  pullSecretName,
  secretManifest,
  toYaml,
  workerDeploymentManifest,
  workerName,
  type KubernetesKwargs,
  type Manifest,
} from './manifests.js';

type DeployerKwargs = KubernetesKwargs & {
  k8s_deployment_manifest?: string;
  manifest_path: string;
  worker_deployment_manifest: string;
  pod_api_url?: string;
  rollout_timeout: number;
};

export interface KubernetesDeployInput {
  deploymentName: string;
  kwargs: DeployerKwargs;
  /** With a pool: a worker Deployment for it; without: the flow Deployment that serves. */
  workPool?: string;
  flowName: string;
  /** The serving image (static only). */
  image?: string;
}

export interface KubernetesStopInput {
  deploymentName: string;
  kwargs: KubernetesKwargs & { k8s_deployment_manifest?: string };
  workPool?: string;
  /** `pause` scales the Deployment to zero (deploy brings it back); `delete` removes it. */
  mode: 'pause' | 'delete';
  deleteSecret: boolean;
}

/**
 * The kubernetes paths of lolpop's PrefectOrchestrator docs over the Kubernetes REST API:
 * the Secret (and an image pull Secret), then the flow Deployment (static) or a worker
 * Deployment for the pool, by server-side apply; deploy waits for the rollout. Stop
 * scales to zero or deletes the same objects by name in the same namespace.
 */
export class KubernetesDeployer {
  constructor(
    private readonly client: KubeApi,
    private readonly logger: Logger,
    private readonly workdir: string,
    private readonly connection: PrefectConnection,
    private readonly registry?: { username: string; password: string },
  ) {}

  /**
   * What deploy applies, in order, Secrets first. The pull Secret only for an image in a
   * registry the package step had credentials for.
   */
  objects(input: KubernetesDeployInput): Manifest[] {
    const { kwargs } = input;
    const secret = secretManifest({
      kwargs,
      apiUrl: kwargs.pod_api_url ?? this.connection.apiUrl,
      apiKey: this.connection.apiKey,
      authString: this.connection.authString,
    });
    const own = kwargs.k8s_deployment_manifest;
    if (own) return [secret, ...this.readOwnManifest(own, kwargs.namespace)];
    if (input.workPool) return [secret, workerDeploymentManifest({ deploymentName: input.deploymentName, workPool: input.workPool, kwargs })];
    if (!input.image) throw new ConfigError('kubernetes: no image to serve; run package first or set deploy.docker_image_name');
    const registry = registryOf(input.image);
    const pull =
      this.registry && registry !== 'docker.io'
        ? pullSecretManifest({ name: pullSecretName(input.deploymentName), namespace: kwargs.namespace, registry, ...this.registry })
        : undefined;
    const deployment = flowDeploymentManifest({
      deploymentName: input.deploymentName,
      flowName: input.flowName,
      image: input.image,
      kwargs,
      pullSecret: pull?.metadata.name,
    });
    return [secret, ...(pull ? [pull] : []), deployment];
  }

  /** The server's verdict on every object (dryRun=All), nothing persisted: each refusal, or none. */
  async dryRun(objects: Manifest[]): Promise<string[]> {
    const refusals: string[] = [];
    for (const object of objects) {
      try {
        await this.client.apply(object, { dryRun: true });
      } catch (error) {
        // No answer is not a verdict: said once, not once per object as a refusal.
        if (!(error instanceof OrchestratorError) || error instanceof KubernetesUnreachable) throw error;
        refusals.push(withNamespaceHint(error.message, object.metadata.namespace));
      }
    }
    return refusals;
  }

  /**
   * Dry-runs every object first, so a manifest the server refuses leaves nothing applied;
   * then applies them and waits for each Deployment's rollout. Returns `kind/name` of each.
   */
  async deploy(input: KubernetesDeployInput): Promise<string[]> {
    const { kwargs } = input;
    const objects = this.objects(input);
    const refusals = await this.dryRun(objects);
    if (refusals.length > 0) throw new OrchestratorError(`Failed to deploy, nothing applied: ${refusals.join('; ')}`);
    if (!kwargs.k8s_deployment_manifest) {
      this.writeForReview(input.workPool ? kwargs.worker_deployment_manifest : kwargs.manifest_path, objects.filter((o) => o.kind !== 'Secret'));
    }
    for (const object of objects) {
      await this.client.apply(object);
      this.logger.info(`applied ${describe(object)} (server-side apply)`);
    }
    for (const object of objects.filter((o) => o.kind === 'Deployment')) {
      await waitForRollout(this.client, object.metadata.namespace, object.metadata.name, { timeoutMs: kwargs.rollout_timeout, logger: this.logger });
    }
    return objects.map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}`);
  }

  /**
   * Why a Deployment deploy applied has stopped running since its rollout (a container
   * that crashes after a moment), in the pod's words, or undefined: asked while the served
   * flow is awaited, so a crash fails deploy at once instead of at serve_timeout.
   */
  async problem(input: KubernetesDeployInput): Promise<string | undefined> {
    for (const object of this.objects(input).filter((o) => o.kind === 'Deployment')) {
      const problem = await deploymentProblem(this.client, object.metadata.namespace, object.metadata.name);
      if (problem) return problem;
    }
    return undefined;
  }

  /** Scales to zero or deletes what deploy created; `deleted` false when none of it was there. */
  async stop(input: KubernetesStopInput): Promise<{ deleted: boolean; detail: string }> {
    const { kwargs } = input;
    const ns = kwargs.namespace;
    const parts: string[] = [];
    let deleted = false;
    const own = kwargs.k8s_deployment_manifest;
    const targets: Array<Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>> = own
      ? this.readOwnManifest(own, ns)
      : [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: input.workPool ? workerName(input.deploymentName, input.workPool) : kubernetesName(input.deploymentName, 'deployment name'), namespace: ns },
          },
          ...(input.workPool || input.mode === 'pause' ? [] : [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: pullSecretName(input.deploymentName), namespace: ns } }]),
        ];
    for (const target of targets) {
      const what = describe(target);
      if (input.mode === 'pause') {
        if (target.kind !== 'Deployment') continue;
        const scaled = await this.client.mergePatch(objectPath(target), { spec: { replicas: 0 } });
        deleted ||= scaled;
        parts.push(scaled ? `scaled ${what} to 0 replicas` : `no ${what}`);
      } else {
        const gone = await this.client.delete(objectPath(target));
        deleted ||= gone;
        // The pull Secret exists only with registry credentials: its absence is no news.
        if (gone || target.kind === 'Deployment' || own) parts.push(`${gone ? 'deleted' : 'no'} ${what}`);
      }
    }
    const secret = kubernetesName(kwargs.secret_name, 'secret_name');
    if (input.deleteSecret) {
      const gone = await this.client.delete(`${collectionPath('Secret', ns)}/${secret}`);
      deleted ||= gone;
      parts.push(`${gone ? 'deleted' : 'no'} Secret ${ns}/${secret}`);
    } else {
      parts.push(`kept Secret ${ns}/${secret} (shared; stop.delete_secret: true removes it)`);
    }
    return { deleted, detail: parts.join('; ') };
  }

  /** The user's manifest, each document given our namespace when it names none. */
  private readOwnManifest(file: string, namespace: string): Manifest[] {
    // A repository file: read only inside the working directory, bounded.
    const bytes = readProjectFile({ root: this.workdir, file, what: `k8s_deployment_manifest ${file}` }, TEXT_FILE_MAX_BYTES);
    if (bytes === undefined) throw new ConfigError(`k8s_deployment_manifest: cannot read ${file} (resolved to ${path.resolve(this.workdir, file)})`);
    const text = bytes.toString('utf8');
    const docs = parseAllDocuments(text);
    const out: Manifest[] = [];
    for (const doc of docs) {
      if (doc.errors.length > 0) throw new ConfigError(`k8s_deployment_manifest ${file}: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as Manifest | null;
      if (!value) continue;
      if (typeof value !== 'object' || !value.kind || !value.apiVersion || !value.metadata?.name) {
        throw new ConfigError(`k8s_deployment_manifest ${file}: every document needs apiVersion, kind and metadata.name`);
      }
      out.push({ ...value, metadata: { ...value.metadata, namespace: value.metadata.namespace ?? namespace } });
    }
    if (out.length === 0) throw new ConfigError(`k8s_deployment_manifest ${file} has no Kubernetes object`);
    return out;
  }

  /** lolpop writes the manifests next to the entrypoint; so do we (never a Secret). */
  private writeForReview(file: string, manifests: Manifest[]): void {
    writePackageFiles(this.workdir, [{ path: file, content: toYaml(manifests) }]);
    this.logger.info(`wrote ${file}`);
  }
}

/** The server's "namespaces "x" not found", with what to do about it. */
function withNamespaceHint(message: string, namespace: string): string {
  return /namespaces? "[^"]+" not found/.test(message)
    ? `${message}; create the namespace (kubectl create namespace ${namespace}) or set deploy.namespace`
    : message;
}
