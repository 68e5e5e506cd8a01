import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CiContext } from '../../src/ci-context.js';

/**
 * The value of a service variable set by scripts/services.sh, or undefined so a
 * test can skip on a laptop. Under REQUIRE_SERVICES=1 (CI) a missing service is
 * a failure, never a skip.
 */
export function service(name: string): string | undefined {
  const value = process.env[name];
  if (!value && process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`${name} is not set but REQUIRE_SERVICES=1: start the services (bash scripts/services.sh start)`);
  }
  return value || undefined;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `lolpop-${prefix}-`));
}

/** A CI context as GitHub's runner would give it, for a repository served from disk. */
export function ciContext(overrides: Partial<CiContext> = {}): CiContext {
  return {
    sha: '',
    shortSha: '',
    ref: 'refs/heads/main',
    refName: 'main',
    runId: '',
    runAttempt: '1',
    runNumber: '1',
    repository: '',
    serverUrl: 'https://github.com',
    apiUrl: 'https://api.github.com',
    eventName: 'push',
    eventPath: '',
    workspace: '',
    event: {},
    ...overrides,
  };
}

/**
 * A git repository at `<root>/<owner>/<name>.git`, so `file://<root>` plays the
 * part of GitHub's server URL and Prefect's real git_clone step fetches from it.
 */
export function gitRepository(root: string, repository: string, files: Record<string, string>): string {
  const dir = path.join(root, `${repository}.git`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=ci', '-c', 'user.email=ci@example.invalid', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'flows');
  return git('rev-parse', 'HEAD');
}

/** A plain Prefect flow file the tests deploy: one flow that succeeds, one that raises. */
export const FLOWS_PY = `
from prefect import flow

@flow(log_prints=True)
def hello(name: str = "world"):
    print(f"hello, {name}!")
    return name

@flow
def boom():
    raise ValueError("the model diverged")
`;
