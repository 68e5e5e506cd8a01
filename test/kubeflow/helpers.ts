import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PackageKwargs } from '../../src/config/schema.js';
import { KubeflowDeployKwargs, type KubeflowKwargs } from '../../src/orchestrators/kubeflow/kwargs.js';
import type { KubeflowTarget } from '../../src/orchestrators/kubeflow/names.js';
import type { KubeflowDeployment } from '../../src/orchestrators/kubeflow/ir.js';
import { resolvedFrom } from '../helpers/requests.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The KFP reference files (the v2beta1 OpenAPI description, pipeline_spec.proto) kept
 * beside the project in ../shared/kfp, never copied into it. From a git worktree under
 * <checkout>/wt/<name> the same folder is two levels up.
 */
export function sharedKfp(): string {
  const candidates = [path.resolve(ROOT, '../shared/kfp'), path.resolve(ROOT, '../../shared/kfp')];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'kfp_api_v2beta1.swagger.json')));
  if (!found) throw new Error(`the KFP reference files are not in ${candidates.join(' or ')}`);
  return found;
}

/** A deployment as KubeflowPipelinesOrchestrator resolves it. */
export function kfpDeployment(name: string, pkg: Record<string, unknown>, deploy: Record<string, unknown> = {}, image = '127.0.0.1:5000/acme/churn:c0ffee0'): KubeflowDeployment {
  const resolved = resolvedFrom<KubeflowKwargs, KubeflowTarget>('KubeflowPipelinesOrchestrator', {
    name,
    package: PackageKwargs.parse(pkg),
    deploy: KubeflowDeployKwargs.parse(deploy),
  });
  return { ...resolved, image };
}

/** The YAML documents of an IR file as plain data. */
export function yamlDocs(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => doc.toJS());
}

/** Runs a script with the kfp venv's python; its stdout. */
export function kfpPython(python: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): string {
  return execFileSync(python, args, { encoding: 'utf8', input: options.input, env: { ...process.env, ...options.env }, timeout: options.timeout ?? 120_000, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function writeJson(file: string, value: unknown): string {
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** kfpPython without blocking this process: a stand-in server in it must answer the script. */
export async function kfpPythonAsync(python: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<string> {
  const { stdout } = await promisify(execFile)(python, args, { encoding: 'utf8', env: { ...process.env, ...options.env }, timeout: options.timeout ?? 120_000 });
  return stdout;
}
