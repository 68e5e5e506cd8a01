import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCiContext } from '../../src/ci-context.js';
import { eventPath } from '../action/github/events.js';

/** The fields of the fixture the tests change, typed loosely as an attacker would fill them. */
interface Payload {
  action: unknown;
  pull_request: { number: unknown; head: { sha: unknown; repo: { full_name: unknown } } };
  repository: { default_branch: unknown };
}

/** GitHub's pull_request.opened payload (test/fixtures), with one field changed by `change`. */
function payloadWith(change: (event: Payload) => void): string {
  const event = JSON.parse(readFileSync(eventPath('pull_request.opened'), 'utf8')) as Payload;
  change(event);
  return JSON.stringify(event);
}

function read(payload: string) {
  return readCiContext({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: '/event.json', GITHUB_SHA: 'f'.repeat(40), GITHUB_REPOSITORY: 'acme/quickstart' }, () => payload);
}

// An event payload is untrusted input: each field the project reads has the type GitHub
// documents, or the payload is refused with one line naming the field (main.ts fails
// the step with it), and nothing of it is used.
describe('an event payload with a field of the wrong type', () => {
  it.each<[string, (e: Payload) => void, string]>([
    ['a numeric head.sha (crashed with `a.slice is not a function`)', (e) => (e.pull_request.head.sha = 123), 'has pull_request.head.sha = 123: expected string, received number'],
    ['a head.sha that is not a commit SHA', (e) => (e.pull_request.head.sha = '--upload-pack=touch /tmp/x'), 'has pull_request.head.sha = "--upload-pack=touch /tmp/x": expected a commit SHA (40 hexadecimal digits)'],
    ['a pull request number given as a string', (e) => (e.pull_request.number = '7'), 'has pull_request.number = "7": expected number, received string'],
    ['a fork name that is not a string (crashed in toLowerCase)', (e) => (e.pull_request.head.repo.full_name = 42), 'has pull_request.head.repo.full_name = 42: expected string, received number'],
    ['an action that is not a string', (e) => (e.action = { closed: true }), 'has action = {"closed":true}: expected string, received object'],
    ['a default branch that is not a string', (e) => (e.repository.default_branch = ['main']), 'has repository.default_branch = ["main"]: expected string, received array'],
  ])('%s: refused, naming the field', (_name, change, problem) => {
    const ci = read(payloadWith(change));
    expect(ci.eventProblem).toBe(`The event payload /event.json (GITHUB_EVENT_PATH) ${problem}`);
    // Nothing of a refused payload is used: the commit is GITHUB_SHA's, no pull request is read from it.
    expect(ci.event).toEqual({});
    expect(ci.pullRequestNumber).toBeUndefined();
    expect(ci.sha).toBe('f'.repeat(40));
  });

  it('a deleted-ref flag given as a string, on a push: refused, not taken for a deletion', () => {
    const ci = readCiContext({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: '/e.json', GITHUB_REF: 'refs/heads/x' }, () => JSON.stringify({ ref: 'refs/heads/x', deleted: 'false' }));
    expect(ci.eventProblem).toBe('The event payload /e.json (GITHUB_EVENT_PATH) has deleted = "false": expected boolean, received string');
    expect(ci.deletedRef).toBeUndefined();
  });

  it('a value with newlines is shown on one line, cut short', () => {
    const ci = read(payloadWith((e) => (e.pull_request.number = `x\n::add-mask::${'y'.repeat(100)}`)));
    expect(ci.eventProblem).not.toContain('\n');
    expect(ci.eventProblem).toMatch(/has pull_request\.number = "x\\n::add-mask::y+…: expected number, received string$/);
  });

  it('GitHub’s own payloads pass unchanged', () => {
    const ci = read(readFileSync(eventPath('pull_request.opened'), 'utf8'));
    expect(ci.eventProblem).toBeUndefined();
    expect([ci.sha, ci.pullRequestNumber, ci.defaultBranch]).toEqual(['a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', 7, 'main']);
  });
});
