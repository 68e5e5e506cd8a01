import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../../errors.js';
import { readProjectFile, TEXT_FILE_MAX_BYTES } from '../../../project-files.js';
import type { Logger } from '../../../logger.js';
import { writePackageFiles } from '../../../packaging/files.js';
import type { PrefectConnection } from '../connection.js';
import type { Kubectl } from './kubectl.js';
import {
  flowDeploymentManifest,
  kubernetesName,
  secretManifest,
  toYaml,
  workerDeploymentManifest,
  workerName,
  type KubernetesKwargs,
  type Manifest,
} from './manifests.js';

export interface KubernetesDeployInput {
  deploymentName: string;
  kwargs: KubernetesKwargs & { k8s_deployment_manifest?: string; manifest_path: string; worker_deployment_manifest: string };
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
  deleteSecret: boolean;
}

/**
 * the kubernetes paths of lolpop's PrefectOrchestrator docs: the Secret, then the flow Deployment (static) or a
 * worker Deployment for the pool, applied with kubectl; stop deletes the same
 * objects by name in the same namespace (LOLPOP bug 3 deleted the wrong one).
 */
export class KubernetesDeployer {
  constructor(
    private readonly kubectl: Kubectl,
    private readonly logger: Logger,
    private readonly workdir: string,
    private readonly connection: PrefectConnection,
  ) {}

  /** Returns `kind/name` of every object applied. */
  async deploy(input: KubernetesDeployInput): Promise<string[]> {
    const { kwargs } = input;
    const secret = secretManifest({
      kwargs,
      apiUrl: this.connection.apiUrl,
      apiKey: this.connection.apiKey,
      authString: this.connection.authString,
    });
    await this.kubectl.apply(toYaml([secret]), kwargs.namespace, `the Secret ${secret.metadata.name}`);
    const own = kwargs.k8s_deployment_manifest;
    let manifests: Manifest[];
    if (own) {
      manifests = this.readOwnManifest(own);
      this.logger.info(`applying your own manifest ${own}`);
    } else if (input.workPool) {
      manifests = [workerDeploymentManifest({ deploymentName: input.deploymentName, workPool: input.workPool, kwargs })];
      this.writeForReview(kwargs.worker_deployment_manifest, manifests);
    } else {
      if (!input.image) throw new ConfigError('kubernetes: no image to serve; run package first or set deploy.docker_image_name');
      manifests = [flowDeploymentManifest({ deploymentName: input.deploymentName, flowName: input.flowName, image: input.image, kwargs })];
      this.writeForReview(kwargs.manifest_path, manifests);
    }
    await this.kubectl.apply(toYaml(manifests), kwargs.namespace, own ?? 'the Deployment');
    return [`secret/${secret.metadata.name}`, ...manifests.map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`)];
  }

  /** Deletes what deploy created; `deleted` false when all of it was already gone. */
  async stop(input: KubernetesStopInput): Promise<{ deleted: boolean; detail: string }> {
    const { kwargs } = input;
    const ns = kwargs.namespace;
    const parts: string[] = [];
    let deleted = false;
    if (kwargs.k8s_deployment_manifest) {
      const yaml = toYaml(this.readOwnManifest(kwargs.k8s_deployment_manifest));
      const gone = await this.kubectl.deleteManifest(yaml, ns);
      deleted ||= gone;
      parts.push(`${gone ? 'deleted' : 'found none of'} the objects of ${kwargs.k8s_deployment_manifest} in ${ns}`);
    } else {
      const name = input.workPool ? workerName(input.deploymentName, input.workPool) : kubernetesName(input.deploymentName, 'deployment name');
      const gone = await this.kubectl.delete('deployment', name, ns);
      deleted ||= gone;
      parts.push(`${gone ? 'deleted' : 'no'} ${input.workPool ? 'worker ' : ''}Deployment ${ns}/${name}`);
    }
    const secret = kubernetesName(kwargs.secret_name, 'secret_name');
    if (input.deleteSecret) {
      const gone = await this.kubectl.delete('secret', secret, ns);
      deleted ||= gone;
      parts.push(`${gone ? 'deleted' : 'no'} Secret ${ns}/${secret}`);
    } else {
      parts.push(`kept Secret ${ns}/${secret} (shared; stop.delete_secret: true removes it)`);
    }
    return { deleted, detail: parts.join('; ') };
  }

  /** The user's manifest, each document given our namespace when it names none. */
  private readOwnManifest(file: string): Manifest[] {
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
      if (typeof value !== 'object' || !value.kind || !value.metadata?.name) {
        throw new ConfigError(`k8s_deployment_manifest ${file}: every document needs kind and metadata.name`);
      }
      out.push(value);
    }
    if (out.length === 0) throw new ConfigError(`k8s_deployment_manifest ${file} has no Kubernetes object`);
    return out;
  }

  /** lolpop writes the manifests next to the entrypoint; so do we (never the Secret). */
  private writeForReview(file: string, manifests: Manifest[]): void {
    writePackageFiles(this.workdir, [{ path: file, content: toYaml(manifests) }]);
    this.logger.info(`wrote ${file}`);
  }
}
