import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubeflowConfig } from '../../src/orchestrators/kubeflow/config.js';
import { resolveConnection } from '../../src/orchestrators/kubeflow/connection.js';
import { buildPipelineIr } from '../../src/orchestrators/kubeflow/ir.js';
import { KubeflowDeployKwargs } from '../../src/orchestrators/kubeflow/kwargs.js';
import { pipelineNameFor, runNameFor, versionNameFor } from '../../src/orchestrators/kubeflow/names.js';
import { isTerminal, stateType } from '../../src/orchestrators/kubeflow/states.js';
import { parseRunUrl, runUrl } from '../../src/orchestrators/kubeflow/urls.js';
import { failureDetail } from '../../src/orchestrators/kubeflow/wait-for-run.js';
import { tempDir } from '../helpers/services.js';
import { kfpDeployment, yamlDocs } from './helpers.js';

const PKG = { lolpop_class: 'ChurnRunner', lolpop_module: 'churn_runner' };
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('no error');
};

describe('KubeflowPipelinesOrchestrator: the IR', () => {
  it('runs the launcher in the package image with params_json as its one argument, the launch spec and deploy.env in the environment, caching off', () => {
    const d = kfpDeployment('Churn Model', PKG, { parameters: { threshold: 0.5 }, env: { STAGE: 'prod' } });
    const [spec] = yamlDocs(buildPipelineIr(d).text) as Array<{ deploymentSpec: { executors: Record<string, { container: { image: string; args: string[]; env: Array<{ name: string; value?: string }> } }> }; root: { dag: { tasks: Record<string, { cachingOptions: unknown }> } }; pipelineInfo: { name: string } }>;
    const container = spec!.deploymentSpec.executors['exec-lolpop-run']!.container;
    expect(spec!.pipelineInfo.name).toBe('churn-model');
    expect(container.image).toBe(d.image);
    expect(container.args).toEqual(["{{$.inputs.parameters['params_json']}}"]);
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    expect(JSON.parse(env.LOLPOP_DEPLOY_SPEC!)).toMatchObject({ workdir: '.', parameters: { threshold: 0.5 }, runner: { module: 'churn_runner', class: 'ChurnRunner', entrypoint: 'build_all' } });
    expect(env.STAGE).toBe('prod');
    expect(spec!.root.dag.tasks['lolpop-run']!.cachingOptions).toEqual({});
  });

  it('puts node selector, tolerations and secrets in a kubernetes PlatformSpec document, and writes none without them', () => {
    const plain = yamlDocs(buildPipelineIr(kfpDeployment('churn', PKG, { resources: { cpu: '1' } })).text);
    expect(plain).toHaveLength(1);
    const docs = yamlDocs(buildPipelineIr(kfpDeployment('churn', PKG, { resources: { node_selector: { pool: 'gpu' }, tolerations: [{ key: 'gpu', operator: 'Exists' }] } })).text);
    expect(docs[1]).toEqual({ platforms: { kubernetes: { deploymentSpec: { executors: { 'exec-lolpop-run': { nodeSelector: { labels: { pool: 'gpu' } }, tolerations: [{ key: 'gpu', operator: 'Exists' }] } } } } } });
  });

  it('refuses by name what KFP cannot take: a memory form kfp refuses, secret parameters, a package without an image', () => {
    expect(errorOf(() => buildPipelineIr(kfpDeployment('churn', PKG, { resources: { memory: '1.5Gi' } })))).toBe(
      "deploy.resources.memory.request '1.5Gi' is not a memory quantity Kubeflow Pipelines takes: write a whole number with one of E, P, T, G, M, K or Ei, Pi, Ti, Gi, Mi, Ki (e.g. 1536Mi, not 1.5Gi or 512k)",
    );
    const secret = { ...kfpDeployment('churn', PKG), secretParameters: { db_password: 'x' } };
    expect(errorOf(() => buildPipelineIr(secret))).toMatch(/^run\.secret_parameters is not supported by KubeflowPipelinesOrchestrator .* deploy\.resources\.env_from_secrets$/);
    expect(errorOf(() => buildPipelineIr(kfpDeployment('churn', { ...PKG, package_type: 'none' })))).toMatch(/package_type is none, but Kubeflow Pipelines runs each step in a container image/);
    expect(KubeflowDeployKwargs.safeParse({ schedule: { cron: '0 * * * * *', interval: 60 } }).error?.issues[0]?.message).toBe('give exactly one of cron and interval');
  });
});

describe('KubeflowPipelinesOrchestrator: names, states, links, failures', () => {
  it('derives names the SDK accepts and versions/runs from content and idempotency key', () => {
    expect(pipelineNameFor('  Churn Model_v2 ')).toBe('churn-model-v2');
    expect(versionNameFor('churn', 'a')).toBe(versionNameFor('churn', 'a'));
    expect(versionNameFor('churn', 'a')).not.toBe(versionNameFor('churn', 'b'));
    expect(runNameFor('churn', 'key-1', new Date(0))).toBe(runNameFor('churn', 'key-1', new Date(1000)));
  });

  it('counts CANCELED as final (kfp.Client does not) and maps KFP states', () => {
    expect(isTerminal('CANCELED')).toBe(true);
    expect(isTerminal('CANCELING')).toBe(false);
    expect(['PENDING', 'RUNNING', 'SUCCEEDED', 'SKIPPED', 'FAILED', 'CANCELING', 'CANCELED', 'PAUSED', undefined, 'NEW'].map(stateType)).toEqual([
      'PENDING', 'RUNNING', 'COMPLETED', 'COMPLETED', 'FAILED', 'CANCELLING', 'CANCELLED', 'PAUSED', 'SCHEDULED', 'UNKNOWN',
    ]);
  });

  it('links to the UI as kfp.Client does, and reads the run id back', () => {
    const url = runUrl('https://kf.example/pipeline', 'r-1');
    expect(url).toBe('https://kf.example/pipeline/#/runs/details/r-1');
    expect(parseRunUrl(url)).toBe('r-1');
  });

  it('names the failing task and its error', () => {
    expect(failureDetail({ run_id: 'r', state: 'FAILED', run_details: { task_details: [{ display_name: 'root', state: 'FAILED', error: { message: 'a' } }, { display_name: 'build_all', state: 'FAILED', error: { message: 'ValueError:\n  no rows' } }] } })).toBe(
      "task 'build_all' failed: ValueError: no rows",
    );
    expect(failureDetail({ run_id: 'r', state: 'FAILED', error: { message: 'pod evicted' } })).toBe('pod evicted');
  });
});

describe('KubeflowPipelinesOrchestrator: connection and auth', () => {
  it('takes a bearer token from a file, the host from KF_PIPELINES_ENDPOINT, and keeps the secrets to mask', () => {
    const dir = tempDir('kfp-token');
    writeFileSync(path.join(dir, 'token'), 'sa-token-0123456789\n');
    const c = resolveConnection(KubeflowConfig.parse({ token_path: 'token' }), { KF_PIPELINES_ENDPOINT: 'http://localhost:3000/' }, dir);
    expect(c).toMatchObject({ host: 'http://localhost:3000', uiUrl: 'http://localhost:3000', headers: { authorization: 'Bearer sa-token-0123456789' } });
    expect(c.secrets).toContain('sa-token-0123456789');
    const cookie = resolveConnection(KubeflowConfig.parse({ host: 'https://kf.example/pipeline', cookie: 'oauth2_proxy_kubeflow=abcdefgh12345678', namespace: 'team-a' }), {}, dir);
    expect(cookie).toMatchObject({ headers: { cookie: 'oauth2_proxy_kubeflow=abcdefgh12345678' }, namespace: 'team-a' });
    expect(cookie.secrets).toContain('abcdefgh12345678');
  });

  it('takes the token from KF_PIPELINES_TOKEN, for a config lolpop also reads (no ${ENV} there)', () => {
    const c = resolveConnection(KubeflowConfig.parse({ host: 'http://kfp:8888' }), { KF_PIPELINES_TOKEN: 'env-token-0123456789' }, '/');
    expect(c.headers).toEqual({ authorization: 'Bearer env-token-0123456789' });
    expect(errorOf(() => resolveConnection(KubeflowConfig.parse({ host: 'http://kfp:8888' }), { KF_PIPELINES_TOKEN: 't', KF_PIPELINES_COOKIE: 'a=b' }, '/'))).toMatch(/two credentials, a bearer token .* and a cookie .*: keep one$/);
  });

  it('refuses two credentials, and a missing host with what to set', () => {
    expect(KubeflowConfig.safeParse({ token: 'a', cookie: 'b=c' }).error?.issues[0]).toMatchObject({ path: ['cookie'], message: 'give one credential: token and cookie are both set' });
    expect(errorOf(() => resolveConnection(KubeflowConfig.parse({}), {}, '/'))).toMatch(/^orchestrator\.config\.host is not set \(nor KF_PIPELINES_ENDPOINT\)/);
  });
});
