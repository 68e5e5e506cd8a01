import { CommandError } from '../../../errors.js';
import { lastLines, type Exec } from '../../../exec.js';
import type { Logger } from '../../../logger.js';

/**
 * `kubectl apply` of manifests read from stdin: Secret values never reach a
 * command line, and the namespace is explicit (LOLPOP bug 1 never passed it).
 */
export function applyArgs(namespace: string): string[] {
  return ['apply', '--namespace', namespace, '-f', '-'];
}

/** Deletes one object; an object already gone is not an error (stop is idempotent). */
export function deleteArgs(kind: string, name: string, namespace: string): string[] {
  return ['delete', kind, name, '--namespace', namespace, '--ignore-not-found=true', '--wait=false'];
}

/** Deletes what a manifest on stdin describes (the user's own `k8s_deployment_manifest`). */
export function deleteManifestArgs(namespace: string): string[] {
  return ['delete', '--namespace', namespace, '--ignore-not-found=true', '--wait=false', '-f', '-'];
}

/**
 * kubectl through the one Exec, against whatever cluster the runner's kubeconfig
 * (KUBECONFIG, ~/.kube/config, the current context) points at.
 */
export class Kubectl {
  constructor(
    private readonly exec: Exec,
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Applies multi-document YAML given on stdin; logs what kubectl changed (never the YAML). */
  async apply(yaml: string, namespace: string, what: string): Promise<void> {
    const args = applyArgs(namespace);
    const res = await this.exec.run('kubectl', args, { env: this.env, input: yaml });
    if (res.exitCode !== 0) throw new CommandError(`Failed to apply ${what} in namespace ${namespace}: ${describeKubectlFailure(res.stderr || res.stdout, namespace)}`);
    for (const line of res.stdout.split('\n').filter((l) => l.trim())) this.logger.info(line);
  }

  /** True when something was deleted, false when it was already gone. */
  async delete(kind: string, name: string, namespace: string): Promise<boolean> {
    return this.run(deleteArgs(kind, name, namespace), `${kind} ${name}`, namespace);
  }

  async deleteManifest(yaml: string, namespace: string): Promise<boolean> {
    return this.run(deleteManifestArgs(namespace), 'the objects of k8s_deployment_manifest', namespace, yaml);
  }

  private async run(args: string[], what: string, namespace: string, input?: string): Promise<boolean> {
    const res = await this.exec.run('kubectl', args, { env: this.env, input });
    if (res.exitCode !== 0) throw new CommandError(`Failed to delete ${what} in namespace ${namespace}: ${describeKubectlFailure(res.stderr || res.stdout, namespace)}`);
    const deleted = res.stdout.split('\n').filter((l) => /\bdeleted\b/.test(l));
    for (const line of deleted) this.logger.info(line);
    return deleted.length > 0;
  }

}

/** One line that says what to fix: no kubectl, no cluster, a missing namespace, else kubectl's last lines. */
export function describeKubectlFailure(output: string, namespace: string): string {
  if (/Unable to locate executable file: kubectl|ENOENT/i.test(output)) return 'kubectl is not installed on the runner';
  if (/namespaces? "[^"]+" not found/i.test(output)) return `the namespace does not exist; create it (kubectl create namespace ${namespace}) or set deploy.namespace`;
  if (/connection refused|no configuration has been provided|couldn't get current server API group list|the server has asked for the client to provide credentials/i.test(output)) {
    return `no Kubernetes cluster is reachable with the runner's kubeconfig (${lastLines(output, 1)})`;
  }
  return lastLines(output, 4).replace(/\n/g, ' | ');
}
