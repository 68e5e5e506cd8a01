import { describe, expect, it } from 'vitest';
import { buildArgs, builderOptions, loginArgs, ociLabels, pushArgs, type BuildArgsInput } from '../../src/docker/args.js';
import { ciContext } from '../helpers/services.js';

const base: BuildArgsInput = { image: 'ghcr.io/acme/q:abc', dockerfile: '/w/Dockerfile', context: '/w', buildArgs: {}, labels: {}, extra: [] };

describe('buildArgs', () => {
  // Numbered rows, as docker/build-push-action tests getArgs(): inputs → argv.
  it.each<[number, Partial<BuildArgsInput>, string[]]>([
    [0, {}, ['build', '--file', '/w/Dockerfile', '--tag', 'ghcr.io/acme/q:abc', '/w']],
    [
      1,
      { labels: { 'org.opencontainers.image.revision': 'abc', 'org.opencontainers.image.source': 'https://github.com/acme/q' } },
      ['build', '--file', '/w/Dockerfile', '--tag', 'ghcr.io/acme/q:abc', '--label', 'org.opencontainers.image.revision=abc', '--label', 'org.opencontainers.image.source=https://github.com/acme/q', '/w'],
    ],
    [
      2,
      { buildArgs: { PIP_INDEX_URL: 'https://pypi.example/simple', EMPTY: '' } },
      ['build', '--file', '/w/Dockerfile', '--tag', 'ghcr.io/acme/q:abc', '--build-arg', 'PIP_INDEX_URL', '--build-arg', 'EMPTY', '/w'],
    ],
    [
      3,
      { extra: ['--network', 'host', '--platform=linux/amd64', '--no-cache'] },
      ['build', '--file', '/w/Dockerfile', '--tag', 'ghcr.io/acme/q:abc', '--network', 'host', '--platform=linux/amd64', '--no-cache', '/w'],
    ],
    [
      4,
      { labels: { a: 'x y' }, buildArgs: { V: 'a=b' }, extra: ['--pull'] },
      ['build', '--file', '/w/Dockerfile', '--tag', 'ghcr.io/acme/q:abc', '--label', 'a=x y', '--build-arg', 'V', '--pull', '/w'],
    ],
    [
      5,
      { buildx: true, extra: ['--load', '--cache-from', 'type=gha,scope=q'] },
      ['buildx', 'build', '--file', '/w/Dockerfile', '--tag', 'ghcr.io/acme/q:abc', '--load', '--cache-from', 'type=gha,scope=q', '/w'],
    ],
  ])('row %i', (_n, input, argv) => {
    expect(buildArgs({ ...base, ...input })).toEqual(argv);
  });

  it('refuses a build arg name Docker would reject, naming it', () => {
    expect(() => buildArgs({ ...base, buildArgs: { 'BAD-NAME': '1' } })).toThrow("Invalid build_args key 'BAD-NAME'");
  });
});

describe('builderOptions', () => {
  it.each<[number, string[], boolean, string[], string[]]>([
    [0, ['--network', 'host'], false, ['--network', 'host'], []],
    [1, ['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max'], true, ['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max'], []],
    [2, ['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max', '--network', 'host'], false, ['--network', 'host'], ['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max']],
    [3, ['--cache-from=ghcr.io/acme/q:cache', '--cache-to=type=inline'], false, ['--cache-from=ghcr.io/acme/q:cache'], ['--cache-to=type=inline']],
    [4, ['--cache-from', 'ghcr.io/acme/q:cache', '--secret', 'id=npm,src=.npmrc', '--no-cache'], false, ['--cache-from', 'ghcr.io/acme/q:cache', '--no-cache'], ['--secret', 'id=npm,src=.npmrc']],
    [5, ['--platform', 'linux/amd64'], false, ['--platform', 'linux/amd64'], []],
  ])('row %i', (_n, extra, hasBuildx, args, dropped) => {
    expect(builderOptions(extra, hasBuildx)).toEqual({ args, dropped });
  });
});

describe('login and push argv', () => {
  it('never puts the password on the command line', () => {
    expect(loginArgs('127.0.0.1:5000', 'ci')).toEqual(['login', '127.0.0.1:5000', '--username', 'ci', '--password-stdin']);
    expect(pushArgs('127.0.0.1:5000/a/b:1')).toEqual(['push', '127.0.0.1:5000/a/b:1']);
  });
});

describe('ociLabels', () => {
  it('links the image to the repository and commit', () => {
    const ci = ciContext({ repository: 'acme/q', sha: 'a'.repeat(40), serverUrl: 'https://github.example' });
    expect(ociLabels(ci, new Date('2026-01-02T03:04:05Z'))).toEqual({
      'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
      'org.opencontainers.image.source': 'https://github.example/acme/q',
      'org.opencontainers.image.revision': 'a'.repeat(40),
    });
  });

  it('outside CI has only the creation time', () => {
    expect(Object.keys(ociLabels(ciContext(), new Date()))).toEqual(['org.opencontainers.image.created']);
  });
});
