import { describe, expect, it } from 'vitest';
import { PrefectDeployKwargs, PrefectPackageKwargs } from '../../src/orchestrators/prefect/kwargs.js';
import { isServed, prefectTarget } from '../../src/orchestrators/prefect/target.js';

const pkg = (extra: Record<string, unknown> = {}) => PrefectPackageKwargs.parse(extra);
const deploy = (extra: Record<string, unknown> = {}) => PrefectDeployKwargs.parse(extra);

describe('where a Prefect deployment runs, decided once', () => {
  it.each([
    ['a pool in deploy', 'docker', pkg(), deploy({ work_pool: 'p' }), { kind: 'pool', workPool: 'p', kubernetesWorker: false }],
    ["package's pool when deploy names none (lolpop's package kwarg)", 'local', pkg({ work_pool: 'q' }), deploy(), { kind: 'pool', workPool: 'q', kubernetesWorker: false }],
    ["deploy's pool over package's", 'docker', pkg({ work_pool: 'q' }), deploy({ work_pool: 'p' }), { kind: 'pool', workPool: 'p', kubernetesWorker: false }],
    ['kubernetes with a pool: a worker Deployment, then the pool deployment', 'kubernetes', pkg(), deploy({ work_pool: 'k' }), { kind: 'pool', workPool: 'k', kubernetesWorker: true }],
    ['docker without a pool: a serving container named after the deployment', 'docker', pkg(), deploy(), { kind: 'static-docker', container: 'qs' }],
    ['docker without a pool: the container deploy.container_name names', 'docker', pkg(), deploy({ container_name: 'mine' }), { kind: 'static-docker', container: 'mine' }],
    ['kubernetes without a pool: the flow serves from its own Deployment', 'kubernetes', pkg(), deploy(), { kind: 'kubernetes-served' }],
    ['local without a pool: nowhere that outlives the job', 'local', pkg(), deploy(), { kind: 'none' }],
  ] as const)('%s', (_name, type, p, d, target) => {
    expect(prefectTarget({ name: 'qs', type, package: p, deploy: d })).toEqual(target);
  });

  it('served deployments are the ones without a pool that have somewhere to run', () => {
    expect(isServed({ kind: 'static-docker', container: 'c' })).toBe(true);
    expect(isServed({ kind: 'kubernetes-served' })).toBe(true);
    expect(isServed({ kind: 'pool', workPool: 'p', kubernetesWorker: true })).toBe(false);
    expect(isServed({ kind: 'none' })).toBe(false);
  });
});
