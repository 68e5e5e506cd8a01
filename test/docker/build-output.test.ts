import { describe, expect, it } from 'vitest';
import { formatBuildFailure, parseBuildFailure } from '../../src/docker/build-output.js';
import { DockerCli, daemonProblem } from '../../src/docker/docker.js';
import { CommandError } from '../../src/errors.js';
import type { Exec, ExecOptions, ExecResult } from '../../src/exec.js';
import { MemoryLogger } from '../../src/logger.js';

// What Debian's dockerd 20.10 classic builder printed for a failing RUN (recorded here).
const CLASSIC = `Sending build context to Docker daemon  2.048kB
Step 1/3 : FROM local/busybox:1
 ---> 1e36a1336f10
Step 2/3 : RUN echo hello
 ---> Running in b8a40dca3697
hello
Removing intermediate container b8a40dca3697
 ---> a649a20c9263
Step 3/3 : RUN echo line1; echo line2 >&2; exit 3
 ---> Running in 6ed6393fb0f6
line1
\u001b[91mline2
\u001b[0m
The command '/bin/sh -c echo line1; echo line2 >&2; exit 3' returned a non-zero code: 3`;

// BuildKit with --progress=plain (docker buildx build), the form GitHub-hosted runners produce.
const BUILDKIT = `#5 [2/3] RUN echo hello
#5 0.214 hello
#5 DONE 0.3s

#6 [3/3] RUN echo line1; echo line2 >&2; exit 3
#6 0.180 line1
#6 0.181 line2
#6 ERROR: process "/bin/sh -c echo line1; echo line2 >&2; exit 3" did not complete successfully: exit code: 3
------
 > [3/3] RUN echo line1; echo line2 >&2; exit 3:
0.180 line1
------
ERROR: failed to solve: process "/bin/sh -c echo line1; echo line2 >&2; exit 3" did not complete successfully: exit code: 3`;

const COPY_MISSING = `Step 1/4 : FROM local/busybox:1
 ---> 1e36a1336f10
Step 2/4 : COPY missing.txt ./
COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist`;

describe('parseBuildFailure', () => {
  it.each([
    ['classic builder', CLASSIC, 'step 3 RUN echo line1; echo line2 >&2; exit 3 failed (exit code 3); last output: line1 | line2'],
    ['BuildKit', BUILDKIT, '[3/3] RUN echo line1; echo line2 >&2; exit 3 failed (exit code 3); last output: line1 | line2'],
    ['a COPY of a missing file', COPY_MISSING, 'step 2 COPY missing.txt ./ failed; last output: COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist'],
  ])('%s: names the step and quotes its last output', (_name, output, message) => {
    const failure = parseBuildFailure(output.split('\n'));
    expect(failure && formatBuildFailure(failure)).toBe(message);
  });

  it('quotes only the last six lines of a long step', () => {
    const lines = ['Step 1/1 : RUN big', ...Array.from({ length: 20 }, (_, i) => `out ${i}`), "The command '/bin/sh -c big' returned a non-zero code: 1"];
    expect(parseBuildFailure(lines)?.output).toEqual(['out 14', 'out 15', 'out 16', 'out 17', 'out 18', 'out 19']);
  });

  it('finds no step when the daemon was never reached', () => {
    expect(parseBuildFailure(['Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?'])).toBeUndefined();
  });
});

describe('daemonProblem', () => {
  it.each([
    ['Cannot connect to the Docker daemon at unix:///tmp/dead.sock. Is the docker daemon running?', 'no Docker daemon answers at unix:///tmp/dead.sock (is Docker running? is DOCKER_HOST right?)'],
    ['error during connect: Get "http://127.0.0.1:1/v1.24/version": dial tcp 127.0.0.1:1: connect: connection refused', 'no Docker daemon answers (is Docker running? is DOCKER_HOST right?)'],
    ['no basic auth credentials', undefined],
  ])('%s', (output, message) => {
    expect(daemonProblem(output)).toBe(message);
  });
});

/** A fake Exec answering each docker subcommand with a canned result, recording calls. */
function fakeExec(answers: Record<string, Partial<ExecResult>>): Exec & { calls: Array<{ args: string[]; options?: ExecOptions }> } {
  const calls: Array<{ args: string[]; options?: ExecOptions }> = [];
  return {
    calls,
    run(_command, args, options) {
      calls.push({ args, options });
      const answer = answers[args[0] ?? ''] ?? {};
      const result = { exitCode: 0, stdout: '', stderr: '', ...answer };
      for (const line of `${result.stdout}`.split('\n')) if (line) options?.onLine?.(line, 'stdout');
      return Promise.resolve(result);
    },
  };
}

describe('DockerCli', () => {
  const input = { image: 'r/q:1', dockerfile: 'Dockerfile', context: '.', buildArgs: {}, labels: {}, extra: [] };

  it('push returns the digest docker push printed', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const exec = fakeExec({ push: { stdout: `The push refers to repository [r/q]\n1: digest: ${digest} size: 739\n` } });
    expect(await new DockerCli(exec, new MemoryLogger(), {}).push('r/q:1')).toBe(digest);
  });

  it('a push the registry refuses says so, and what to do', async () => {
    const exec = fakeExec({ push: { exitCode: 1, stdout: 'The push refers to repository [r/q]\n', stderr: 'no basic auth credentials\n' } });
    const push = new DockerCli(exec, new MemoryLogger(), {}).push('r/q:1');
    await expect(push).rejects.toThrow(CommandError);
    await expect(push).rejects.toThrow(
      'Failed to push r/q:1: the registry refused: no basic auth credentials; log in first (docker/login-action in the workflow, or the registry-username and registry-password inputs) with an account that may push there',
    );
  });

  it('a failing build names the step', async () => {
    const exec = fakeExec({ build: { exitCode: 1, stdout: CLASSIC } });
    await expect(new DockerCli(exec, new MemoryLogger(), {}).build(input)).rejects.toThrow(
      'Failed to build the image r/q:1: step 3 RUN echo line1; echo line2 >&2; exit 3 failed (exit code 3); last output: line1 | line2',
    );
    expect(exec.calls[0]?.options?.env?.BUILDKIT_PROGRESS).toBe('plain');
  });

  it('login passes the password on stdin only', async () => {
    const exec = fakeExec({});
    await new DockerCli(exec, new MemoryLogger(), {}).login('r', 'u', 's3cret');
    expect(exec.calls[0]?.args).not.toContain('s3cret');
    expect(exec.calls[0]?.options?.input).toBe('s3cret');
  });
});
