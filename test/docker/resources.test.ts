import { describe, expect, it } from 'vitest';
import { Resources } from '../../src/config/resources.js';
import { decimalCores, dockerResources, dockerRunResourceArgs, memoryBytes, nanoCpus } from '../../src/docker/resources.js';
import { runContainerArgs } from '../../src/docker/args.js';

const map = (resources: unknown) => dockerResources(Resources.parse(resources), 'a test target');
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
};

describe('Kubernetes quantities in Docker units', () => {
  it.each([
    ['500m', 500_000_000],
    ['1m', 1_000_000],
    ['2', 2_000_000_000],
    ['0.5', 500_000_000],
    ['1.25', 1_250_000_000],
    ['0.000000001', 1],
  ])('cpu %s is %i NanoCpus', (quantity, nanos) => {
    expect(nanoCpus(quantity)).toBe(nanos);
  });

  it.each([
    ['0.0000000001', "'0.0000000001' is finer than Docker's --cpus takes (at most 9 decimals)"],
    ['0m', "'0m' is no CPU at all; Docker's --cpus needs more than 0"],
    ['1Gi', `'1Gi' is not a CPU quantity ("2", "0.5", "500m")`],
  ])('cpu %s has no Docker form: %s', (quantity, why) => {
    expect(nanoCpus(quantity)).toBe(why);
  });

  it.each([
    ['1000', 1000],
    ['1k', 1000],
    ['1Ki', 1024],
    ['512Mi', 536_870_912],
    ['512M', 512_000_000],
    ['1Gi', 1_073_741_824],
    ['1G', 1_000_000_000],
    ['1.5Gi', 1_610_612_736],
    ['2Ti', 2_199_023_255_552],
    // A fraction of a byte is rounded up, as Kubernetes does.
    ['1.0001k', 1001],
  ])('memory %s is %i bytes', (quantity, bytes) => {
    expect(memoryBytes(quantity)).toBe(bytes);
  });

  it.each([
    ['0Mi', "'0Mi' is no memory at all"],
    ['1Ei', "'1Ei' is more memory than any Docker host has"],
    ['1mb', `'1mb' is not a memory quantity ("512Mi", "2Gi", "1G")`],
  ])('memory %s has no Docker form: %s', (quantity, why) => {
    expect(memoryBytes(quantity)).toBe(why);
  });

  it.each([
    [500_000_000, '0.5'],
    [2_000_000_000, '2'],
    [1_250_000_000, '1.25'],
    [1, '0.000000001'],
  ])('%i NanoCpus is --cpus %s', (nanos, cores) => {
    expect(decimalCores(nanos)).toBe(cores);
  });
});

describe('deploy.resources on a Docker container', () => {
  it('cpu: the limit when given, else the request; memory: limit and reservation; gpu: a count', () => {
    expect(map({ cpu: { request: '250m', limit: '2' }, memory: { request: '256Mi', limit: '1Gi' }, gpu: { count: 2 } })).toEqual({
      nanoCpus: 2_000_000_000,
      memoryBytes: 1_073_741_824,
      memoryReservationBytes: 268_435_456,
      gpus: 2,
    });
    // A bare value is the request: the only CPU amount a container has, and a memory reservation (no limit).
    expect(map({ cpu: '500m', memory: '512Mi' })).toEqual({ nanoCpus: 500_000_000, memoryReservationBytes: 536_870_912 });
    expect(map({ cpu: 1.5 })).toEqual({ nanoCpus: 1_500_000_000 });
    expect(map({})).toEqual({});
    expect(dockerResources(undefined, 'x')).toEqual({});
  });

  it('as docker run options', () => {
    expect(dockerRunResourceArgs(map({ cpu: { limit: '500m' }, memory: { request: '64Mi', limit: '256Mi' }, gpu: { count: 1 } }))).toEqual([
      '--cpus',
      '0.5',
      '--memory',
      '268435456b',
      '--memory-reservation',
      '67108864b',
      '--gpus',
      '1',
    ]);
    expect(dockerRunResourceArgs({})).toEqual([]);
  });

  it('refuses what one Docker engine cannot honour, every key by its path, in one error', () => {
    const message = errorOf(() =>
      map({
        node_selector: { zone: 'a' },
        tolerations: [{ key: 'gpu', operator: 'Exists' }],
        service_account: 'trainer',
        env_from_secrets: { TOKEN: { secret: 's', key: 'k' } },
        gpu: { count: 1, resource: 'amd.com/gpu', accelerator: 'mi300' },
      }),
    );
    expect(message).toBe(
      'orchestrator.deployment.deploy.resources cannot be honoured by a test target: ' +
        'orchestrator.deployment.deploy.resources.node_selector: a Docker engine is one host, there is no node to select; it applies to Kubernetes targets (deployment.type kubernetes, a kubernetes work pool, Airflow task: kubernetes); ' +
        'orchestrator.deployment.deploy.resources.tolerations: a Docker engine has no taints to tolerate; it applies to Kubernetes targets (deployment.type kubernetes, a kubernetes work pool, Airflow task: kubernetes); ' +
        'orchestrator.deployment.deploy.resources.service_account: a Docker container runs under no Kubernetes ServiceAccount; it applies to Kubernetes targets (deployment.type kubernetes, a kubernetes work pool, Airflow task: kubernetes); ' +
        'orchestrator.deployment.deploy.resources.env_from_secrets: Docker has no Secrets to read; pass the value as a secret parameter (run.parameters with the value, named in run.secret_parameters), or deploy to a Kubernetes target, which reads it from the Secret; ' +
        "orchestrator.deployment.deploy.resources.gpu.resource: Docker's --gpus requests nvidia.com/gpu devices only; 'amd.com/gpu' has no Docker form (give it on a Kubernetes target); " +
        "orchestrator.deployment.deploy.resources.gpu.accelerator: Docker's --gpus cannot choose an accelerator type (the engine's GPUs are what they are); remove it, or deploy to Kubernetes and name it in node_selector. " +
        'Remove those keys.',
    );
  });

  it('refuses a quantity Docker cannot take and a reservation over the limit, naming the key', () => {
    expect(errorOf(() => map({ cpu: { request: '1', limit: '0.0000000001' } }))).toBe(
      "orchestrator.deployment.deploy.resources cannot be honoured by a test target: orchestrator.deployment.deploy.resources.cpu.limit: '0.0000000001' is finer than Docker's --cpus takes (at most 9 decimals). Remove that key.",
    );
    expect(errorOf(() => map({ memory: { request: '2Gi', limit: '1Gi' } }))).toContain(
      "orchestrator.deployment.deploy.resources.memory: the request (2Gi) is more than the limit (1Gi); Docker refuses a reservation over the limit",
    );
  });

  it('a serving container: the limits before the user\'s own options; one given twice is refused', () => {
    const input = { name: 'q', image: 'q:1', restart: 'no', envNames: [], labels: {}, extra: ['--network', 'host'] };
    expect(runContainerArgs({ ...input, resources: { nanoCpus: 500_000_000, gpus: 1 } })).toEqual([
      'run', '--detach', '--name', 'q', '--restart', 'no', '--cpus', '0.5', '--gpus', '1', '--network', 'host', 'q:1',
    ]);
    expect(errorOf(() => runContainerArgs({ ...input, extra: ['--memory=1g'], resources: { memoryBytes: 1024 } }))).toBe(
      'orchestrator.deployment.deploy.docker_kwargs gives --memory, which deploy.resources sets too; give each once (deploy.resources is the portable form)',
    );
    // Docker's one-letter -m is --memory too, separate or joined to its value.
    for (const extra of [['-m', '1g'], ['-m1g']]) {
      expect(errorOf(() => runContainerArgs({ ...input, extra, resources: { memoryBytes: 1024 } }))).toContain('docker_kwargs gives --memory');
    }
    // --memory-reservation is not --memory.
    expect(runContainerArgs({ ...input, extra: ['--memory-reservation=1g'], resources: { memoryBytes: 1024 } })).toContain('--memory-reservation=1g');
  });
});
