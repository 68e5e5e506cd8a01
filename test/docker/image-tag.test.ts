import { describe, expect, it } from 'vitest';
import { readCiContext } from '../../src/ci-context.js';
import { defaultImageTag, registryOf, renderImageTag } from '../../src/docker/args.js';
import { ConfigError } from '../../src/errors.js';
import { ciContext } from '../helpers/services.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const push = ciContext({ sha: SHA, shortSha: SHA.slice(0, 7), refName: 'main', runNumber: '42' });

describe('renderImageTag', () => {
  it.each<[number, string, Parameters<typeof ciContext>[0], string]>([
    [0, 'ghcr.io/acme/quickstart:{sha}', {}, `ghcr.io/acme/quickstart:${SHA}`],
    [1, 'ghcr.io/acme/quickstart:{short_sha}', {}, 'ghcr.io/acme/quickstart:0123456'],
    [2, 'ghcr.io/acme/quickstart:{ref}-{run}', {}, 'ghcr.io/acme/quickstart:main-42'],
    [3, 'ghcr.io/Acme/QuickStart:Build-{run}', {}, 'ghcr.io/acme/quickstart:Build-42'],
    [4, 'localhost:5000/q', {}, 'localhost:5000/q:latest'],
    [5, '127.0.0.1:5000/ci/q:{short_sha}', {}, '127.0.0.1:5000/ci/q:0123456'],
    [6, 'acme/q:{ref}', { refName: 'feature/New_thing' }, 'acme/q:feature-New_thing'],
    [7, 'acme/q:{ref}', { refName: '7/merge', pullRequestNumber: 7 }, 'acme/q:pr-7'],
    [8, 'q:{sha}-{run}', { sha: '', shortSha: '', runNumber: '', refName: '' }, 'q:local-local'],
    [9, 'Registry.Example.com:443/Team/App:{ref}', { refName: '.hidden' }, 'Registry.Example.com:443/team/app:hidden'],
  ])('row %i: %s', (_n, template, overrides, expected) => {
    expect(renderImageTag(template, { ...push, ...overrides })).toBe(expected);
  });

  it('uses the pull request head, not the merge commit, on pull_request events', () => {
    const head = 'f'.repeat(40);
    const ci = readCiContext(
      { GITHUB_SHA: 'e'.repeat(40), GITHUB_REF_NAME: '7/merge', GITHUB_EVENT_PATH: '/event.json' },
      () => JSON.stringify({ pull_request: { number: 7, head: { sha: head } } }),
    );
    expect(renderImageTag('ghcr.io/acme/q:{sha}', ci)).toBe(`ghcr.io/acme/q:${head}`);
    expect(renderImageTag('ghcr.io/acme/q:{short_sha}-{ref}', ci)).toBe('ghcr.io/acme/q:fffffff-pr-7');
  });

  it.each<[number, string, string]>([
    [0, 'acme/q:{branch}', "Invalid docker_image_tag 'acme/q:{branch}': unknown placeholder {branch}. Expected one of {sha}, {short_sha}, {ref}, {run}."],
    [1, 'acme/q q:1', "'q q' is not a valid name component"],
    [2, 'acme/q:-bad', "'-bad' is not a valid tag"],
    [3, `acme/q:${'x'.repeat(129)}`, 'is not a valid tag'],
    [4, 'acme//q:1', "'' is not a valid name component"],
    [5, '', 'the name is empty'],
    [6, 'acme/q_:1', "'q_' is not a valid name component"],
  ])('row %i rejects %s', (_n, template, message) => {
    const render = () => renderImageTag(template, push);
    expect(render).toThrow(ConfigError);
    expect(render).toThrow(message);
  });

  it("lolpop's default tag: lolpop-{class}-{entrypoint}:latest, lower-cased, _ → -", () => {
    expect(defaultImageTag('QuickstartRunner', 'build_all')).toBe('lolpop-quickstartrunner-build-all:latest');
    expect(renderImageTag(defaultImageTag('QuickstartRunner', 'build_all'), push)).toBe('lolpop-quickstartrunner-build-all:latest');
  });

  it.each([
    ['ghcr.io/acme/q:1', 'ghcr.io'],
    ['127.0.0.1:5000/q:1', '127.0.0.1:5000'],
    ['localhost/q', 'localhost'],
    ['acme/q:1', 'docker.io'],
    ['q', 'docker.io'],
  ])('registryOf(%s) = %s', (image, registry) => {
    expect(registryOf(image)).toBe(registry);
  });
});
