import { describe, expect, it } from 'vitest';
import { builderFlags, cacheScope, parseBuilder } from '../../src/docker/builder.js';

const ACTIONS = { ACTIONS_RUNTIME_TOKEN: 'runtime-token', ACTIONS_RESULTS_URL: 'https://results.example.invalid/' };
const IMAGE = 'localhost:5000/team/model:abc1234';

describe('the builder at hand', () => {
  it('reads the driver from docker buildx inspect; no output means no buildx', () => {
    const inspect = 'Name:          builder-1\nDriver:        docker-container\nLast Activity: 2026-12-01 09:00:00 +0000 UTC\n\nNodes:\nName:      builder-10\n';
    expect(parseBuilder(inspect)).toEqual({ buildx: true, driver: 'docker-container' });
    expect(parseBuilder('Name: default\nDriver: docker\n')).toEqual({ buildx: true, driver: 'docker' });
    expect(parseBuilder(undefined)).toEqual({ buildx: false });
  });
});

describe('what a build gets for its builder', () => {
  it.each([
    ['classic builder, off Actions: nothing added, nothing said', { buildx: false }, [], {}, [], 0],
    ['classic builder on Actions: says the cache is missing and how to get it', { buildx: false }, [], ACTIONS, [], 1],
    ['buildx, docker driver, off Actions: nothing to add', { buildx: true, driver: 'docker' }, [], {}, [], 0],
    ['buildx, docker driver on Actions: no cache export possible, said', { buildx: true, driver: 'docker' }, [], ACTIONS, [], 1],
    [
      'buildx, docker-container on Actions: loaded into the engine, GitHub Actions cache scoped by image',
      { buildx: true, driver: 'docker-container' },
      [],
      ACTIONS,
      ['--load', '--cache-from', 'type=gha,scope=team/model', '--cache-to', 'type=gha,mode=max,scope=team/model'],
      0,
    ],
    ['the v1 cache URL serves as well', { buildx: true, driver: 'docker-container' }, [], { ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_CACHE_URL: 'https://cache.example.invalid/' }, ['--load', '--cache-from', 'type=gha,scope=team/model', '--cache-to', 'type=gha,mode=max,scope=team/model'], 0],
    ['docker-container off Actions: only --load (the image must reach the engine to be pushed)', { buildx: true, driver: 'docker-container' }, [], {}, ['--load'], 0],
    ["the user's own cache flags win", { buildx: true, driver: 'docker-container' }, ['--cache-from=type=registry,ref=x'], ACTIONS, ['--load'], 0],
    ["the user's own output wins", { buildx: true, driver: 'docker-container' }, ['--output', 'type=docker'], ACTIONS, ['--cache-from', 'type=gha,scope=team/model', '--cache-to', 'type=gha,mode=max,scope=team/model'], 0],
    ['a token without a cache URL is not the cache service', { buildx: true, driver: 'docker-container' }, [], { ACTIONS_RUNTIME_TOKEN: 't' }, ['--load'], 0],
  ] as const)('%s', (_name, builder, userArgs, env, args, notes) => {
    const flags = builderFlags(builder, userArgs, env, IMAGE);
    expect(flags.args).toEqual(args);
    expect(flags.notes).toHaveLength(notes);
  });
});

describe('the cache scope of an image', () => {
  it.each([
    ['localhost:5000/team/model:abc1234', 'team/model'],
    ['ghcr.io/acme/quickstart:pr-7', 'acme/quickstart'],
    ['quickstart:latest', 'quickstart'],
    ['acme/quickstart', 'acme/quickstart'],
    ['localhost/model@sha256:abc', 'model'],
  ])('%s → %s', (image, scope) => {
    expect(cacheScope(image)).toBe(scope);
  });
});
