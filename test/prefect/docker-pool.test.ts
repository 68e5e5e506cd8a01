import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Resources } from '../../src/config/resources.js';
import type { WorkPool } from '../../src/orchestrators/prefect/api.js';
import { dockerPoolJobVariables } from '../../src/orchestrators/prefect/docker-pool-variables.js';
import { MemoryLogger } from '../../src/logger.js';
import { PrefectConfig } from '../../src/orchestrators/prefect/config.js';
import { PrefectDeployKwargs, PrefectPackageKwargs, type PrefectKwargs } from '../../src/orchestrators/prefect/kwargs.js';
import { PrefectOrchestrator } from '../../src/orchestrators/prefect/orchestrator.js';
import type { PrefectTarget } from '../../src/orchestrators/prefect/target.js';
import { stepRequests } from '../../src/step-requests.js';
import { resolvedFrom } from '../helpers/requests.js';
import { ciContext, tempDir } from '../helpers/services.js';

/** The CI pools' base job templates as the servers hold them: prefect-docker's defaults (0.7.4, Prefect 3; 0.5.5, Prefect 2) with network_mode host. */
const template = (version: string) =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, `../fixtures/prefect/docker-${version}-base-job-template.json`), 'utf8')) as WorkPool['base_job_template'];
const pool = (version: string, base = template(version)): WorkPool => ({ name: 'ci-docker', type: 'docker', base_job_template: base });
const variables = (resources: unknown, p: WorkPool | undefined = pool('0.7.4')) => dockerPoolJobVariables(Resources.parse(resources), p);

describe('deploy.resources on a Prefect docker work pool: job variables', () => {
  it.each(['0.7.4', '0.5.5'])('prefect-docker %s: mem_limit, and container_create_kwargs for --cpus, --memory-reservation and --gpus', (version) => {
    expect(variables({ cpu: { request: '250m', limit: '500m' }, memory: { request: '128Mi', limit: '1Gi' }, gpu: { count: 1 } }, pool(version))).toEqual({
      mem_limit: '1073741824',
      container_create_kwargs: { nano_cpus: 500_000_000, mem_reservation: 134_217_728, device_requests: [{ count: 1, capabilities: [['gpu']] }] },
    });
  });

  it('only what is asked for; none without deploy.resources', () => {
    expect(variables({ memory: { limit: '512M' } })).toEqual({ mem_limit: '512000000' });
    expect(variables({ cpu: '2' })).toEqual({ container_create_kwargs: { nano_cpus: 2_000_000_000 } });
    expect(dockerPoolJobVariables(undefined, pool('0.7.4'))).toEqual({});
    // An offline plan: no pool to check against.
    expect(variables({ cpu: '1' }, undefined)).toEqual({ container_create_kwargs: { nano_cpus: 1_000_000_000 } });
  });

  it('a template without the variable (or that places it nowhere) is refused by name, as on kubernetes pools', () => {
    const base = template('0.7.4')!;
    const properties = Object.fromEntries(Object.entries(base.variables!.properties!).filter(([name]) => name !== 'container_create_kwargs'));
    const undeclared = pool('0.7.4', { ...base, variables: { properties } });
    expect(() => variables({ cpu: '1', memory: { limit: '1Gi' } }, undeclared)).toThrow(
      "Failed to deploy: work pool 'ci-docker' has no job variable for what deploy.resources asks (deploy.resources.cpu needs 'container_create_kwargs'); " +
        "add the variables to the pool's base job template (prefect-docker's default template has both) or remove those keys.",
    );
    const configuration = Object.fromEntries(Object.entries(base.job_configuration!).filter(([name]) => name !== 'mem_limit'));
    expect(() => variables({ memory: { limit: '1Gi' } }, pool('0.7.4', { ...base, job_configuration: configuration }))).toThrow(
      "(deploy.resources.memory.limit needs 'mem_limit', declared but placed nowhere in job_configuration)",
    );
  });

  it('what one Docker engine cannot honour is refused by name, naming the pool', () => {
    expect(() => variables({ node_selector: { zone: 'a' } })).toThrow(
      "orchestrator.deployment.deploy.resources cannot be honoured by Prefect docker work pool 'ci-docker': orchestrator.deployment.deploy.resources.node_selector: a Docker engine is one host",
    );
  });

  it('package refuses it on a docker pool before a build', async () => {
    const calls: string[][] = [];
    const o = new PrefectOrchestrator(PrefectConfig.parse({}), {
      logger: new MemoryLogger(),
      exec: { run: async (_c, args) => (calls.push(args), { exitCode: 0, stdout: '', stderr: '' }) },
      fetch: (async (url: string | URL) =>
        String(url).includes('/work_pools/') ? Response.json(pool('0.7.4')) : Response.json('3.8.8')) as typeof globalThis.fetch,
      env: { PREFECT_API_URL: 'http://p:4200/api' },
      ci: ciContext(),
      workdir: tempDir('docker-pool'),
      configFile: 'lolpop.yaml',
    });
    const requests = stepRequests(
      resolvedFrom<PrefectKwargs, PrefectTarget>('PrefectOrchestrator', {
        name: 'qs',
        type: 'docker',
        deploy: PrefectDeployKwargs.parse({ work_pool: 'ci-docker', resources: { service_account: 'trainer' } }),
        package: PrefectPackageKwargs.parse({ lolpop_class: 'QuickstartRunner' }),
      }),
    );
    await expect(o.package(requests.package())).rejects.toThrow(
      "orchestrator.deployment.deploy.resources cannot be honoured by Prefect docker work pool 'ci-docker': orchestrator.deployment.deploy.resources.service_account:",
    );
    expect(calls).toEqual([]);
  });
});
