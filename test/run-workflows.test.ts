import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import type { Exec } from '../src/exec.js';
import { MemoryLogger, PrefixedLogger } from '../src/logger.js';
import type { OrchestratorContext } from '../src/orchestrators/orchestrator.js';
import { runAndFinish, type FinishedRun, type Shell, type WorkflowsRequest } from '../src/run-workflows.js';
import { ciContext, tempDir } from './helpers/services.js';

/** An orchestrator module that records the context each workflow was created with. */
const RECORDER = `
export default {
  name: 'Recorder',
  create(config, context) {
    (globalThis.recordedContexts ??= []).push(context);
    return {
      async package() { return { files: [], entrypoint: 'x' }; },
      async deploy({ deploymentName }) { return { id: deploymentName, name: deploymentName }; },
      async run() { return { id: 'r', url: 'http://runs.example/r', state: 'COMPLETED', created: true }; },
      async wait({ run }) { return run; },
      async stop() { return { stopped: true, detail: 'stopped' }; },
    };
  },
};
`;

const recorded = (): OrchestratorContext[] => ((globalThis as { recordedContexts?: OrchestratorContext[] }).recordedContexts ??= []);

function project(names: string[]): { dir: string; files: string[] } {
  const dir = tempDir('run-workflows');
  writeFileSync(path.join(dir, 'recorder.mjs'), RECORDER);
  const files = names.map((name) => {
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(file, `orchestrator:\n  deployment:\n    name: ${name}\n`);
    return file;
  });
  return { dir, files };
}

/** A shell as the action and the CLI are one: what to run in, the finished run out. */
function shell(request: () => WorkflowsRequest): Shell<FinishedRun> & { logger: MemoryLogger; exec: Exec } {
  return {
    logger: new MemoryLogger(),
    env: { PATH: process.env.PATH },
    ci: ciContext(),
    exec: { run: async () => ({ exitCode: 0, stdout: '', stderr: '' }) } as unknown as Exec,
    fetch: async () => new Response('not used', { status: 500 }),
    request,
    finish: async (run) => run,
  };
}

describe('runAndFinish: one path for one config file and several', () => {
  it.each([[['solo']], [['team-a', 'team-b']]])('%j: every workflow gets the run environment assembled in one place', async (names) => {
    const { dir, files } = project(names);
    const registry = { username: 'ci', password: 'pw' };
    const before = recorded().length;
    const sh = shell(() => ({ files, steps: ['deploy'], overrides: { orchestrator: { name: './recorder.mjs', label: 'test' } }, maxParallel: 2, failFast: false, workdir: dir, registry, unknownOrchestrator: 'fail' as const }));
    const run = await runAndFinish(sh);
    expect(run.failure).toBeUndefined();
    expect(run.several).toBe(names.length > 1);
    expect(run.outcomes.map((o) => [o.name, o.status, o.result?.deployment?.name])).toEqual(names.map((n) => [n, 'succeeded', n]));
    const contexts = recorded().slice(before);
    expect(contexts).toHaveLength(names.length);
    for (const [i, context] of contexts.entries()) {
      expect(context).toMatchObject({ workdir: dir, registry, env: sh.env, ci: sh.ci, exec: sh.exec, fetch: sh.fetch, configFile: files[i] });
      // Several run side by side: each one's lines carry its name.
      expect(context.logger).toBeInstanceOf(names.length > 1 ? PrefixedLogger : MemoryLogger);
    }
    // One map for the workflows of one step: what one learned of a server the others reuse.
    expect(new Set(contexts.map((c) => c.shared)).size).toBe(1);
  });

  it('a request that cannot be read reaches finish as the failure, with nothing run', async () => {
    const run = await runAndFinish(
      shell(() => {
        throw new ConfigError('input comment: nope');
      }),
    );
    expect(run).toMatchObject({ outcomes: [], several: false, request: undefined });
    expect((run.failure as Error).message).toBe('input comment: nope');
  });

  it('several files with one deployment-name override are refused before anything runs, naming the flag or input', async () => {
    const { dir, files } = project(['a', 'b']);
    const request = (source: 'flag' | 'input') => () => ({ files, steps: ['deploy' as const], overrides: { deploymentName: 'same', source }, maxParallel: 1, failFast: false, workdir: dir, unknownOrchestrator: 'fail' as const });
    expect(((await runAndFinish(shell(request('flag')))).failure as Error).message).toBe("-n/--deployment-name: 2 config files would all deploy 'same'; name each in its file");
    expect(((await runAndFinish(shell(request('input')))).failure as Error).message).toBe("input deployment-name: 2 config files would all deploy 'same'; name each in its file");
  });

  it('several: one failed workflow fails the run, naming it; the others still run', async () => {
    const { dir, files } = project(['good', 'bad']);
    writeFileSync(files[1]!, 'orchestrator:\n  deployment:\n    name: bad\n    bogus_key: 1\n');
    const run = await runAndFinish(shell(() => ({ files, steps: ['deploy'], overrides: { orchestrator: { name: './recorder.mjs', label: 'test' } }, maxParallel: 1, failFast: false, workdir: dir, unknownOrchestrator: 'fail' as const })));
    expect(run.outcomes.map((o) => o.status)).toEqual(['succeeded', 'failed']);
    expect((run.failure as Error).message).toMatch(/^1 of 2 workflows failed \(.*bad\.yaml\)$/);
  });
});
