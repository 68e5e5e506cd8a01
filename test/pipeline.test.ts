import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../src/config/load.js';
import { RunEndedError, RunFailedError, RunTimeoutError } from '../src/errors.js';
import { MemoryLogger } from '../src/logger.js';
import type { Orchestrator, RunResult, RunState } from '../src/orchestrators/orchestrator.js';
import { orchestratorLookup } from '../src/orchestrators/registry.js';
import { runPipeline, type PipelineResult } from '../src/pipeline.js';
import { resolvedOf } from './helpers/requests.js';

// The pipeline against a plain fake orchestrator: no services, only the order of
// steps, what each reports, and the progress snapshots the PR comment is written from.
const config = resolvedOf(loadConfigSync(path.resolve('examples/quickstart/lolpop.yaml'), { runSettings: { wait: true } }, orchestratorLookup, {}));

function fakeOrchestrator(finalState: RunState | 'TIMEOUT' = 'COMPLETED'): Orchestrator & { calls: string[] } {
  const calls: string[] = [];
  const run: RunResult = { id: 'r1', url: 'https://orchestrator.example/runs/r1', state: 'SCHEDULED', created: true };
  return {
    calls,
    package: async () => (calls.push('package'), { files: ['prefect_files/run.py'], entrypoint: 'prefect_files/run.py:f' }),
    deploy: async () => (calls.push('deploy'), { id: 'd1', name: 'flow/quickstart' }),
    run: async () => (calls.push('run'), run),
    wait: async () => {
      calls.push('wait');
      if (finalState === 'TIMEOUT') throw new RunTimeoutError('run r1 is still RUNNING', { ...run, state: 'RUNNING' }, 1000);
      if (finalState !== 'COMPLETED') throw new RunEndedError(`run r1 ended ${finalState}`, { ...run, state: finalState });
      return { ...run, state: finalState };
    },
    stop: async () => (calls.push('stop'), { stopped: true, detail: 'paused' }),
  };
}

const statuses = (r: PipelineResult) => r.steps.map((s) => `${s.step}:${s.status}`);

describe('runPipeline', () => {
  it('hands the progress hook a snapshot before each step: done, running, pending', async () => {
    const snapshots: string[][] = [];
    const orchestrator = fakeOrchestrator();
    const result = await runPipeline(config, ['package', 'deploy', 'run'], orchestrator, new MemoryLogger(), {
      hooks: { onStepStart: async (progress) => void snapshots.push(statuses(progress)) },
      runNoun: 'flow run',
    });
    expect(snapshots).toEqual([
      ['package:running', 'deploy:pending', 'run:pending', 'wait:pending'],
      ['package:success', 'deploy:running', 'run:pending', 'wait:pending'],
      ['package:success', 'deploy:success', 'run:running', 'wait:pending'],
      ['package:success', 'deploy:success', 'run:success', 'wait:running'],
    ]);
    expect(statuses(result)).toEqual(['package:success', 'deploy:success', 'run:success', 'wait:success']);
    expect(result.steps.find((s) => s.step === 'run')?.detail).toBe('flow run r1 started');
    expect(result.run?.state).toBe('COMPLETED');
  });

  it('a failing progress hook is a warning, never a failed deployment', async () => {
    const logger = new MemoryLogger();
    const result = await runPipeline(config, ['deploy'], fakeOrchestrator(), logger, {
      hooks: {
        onStepStart: async () => {
          throw new Error('GitHub answered 502');
        },
      },
    });
    expect(result.error).toBeUndefined();
    expect(logger.lines).toContain('warning: Could not report progress before deploy: GitHub answered 502');
  });

  it('a failed wait keeps the final state and skips nothing after it; the error is held, not thrown', async () => {
    const orchestrator = fakeOrchestrator('FAILED');
    const result = await runPipeline(config, ['deploy', 'run'], orchestrator, new MemoryLogger());
    expect(statuses(result)).toEqual(['deploy:success', 'run:success', 'wait:failed']);
    expect(result.run?.state).toBe('FAILED');
    expect(result.error).toBeInstanceOf(RunFailedError);
  });

  it('a wait that times out keeps the last state seen, from the typed error', async () => {
    const result = await runPipeline(config, ['deploy', 'run'], fakeOrchestrator('TIMEOUT'), new MemoryLogger());
    expect(statuses(result)).toEqual(['deploy:success', 'run:success', 'wait:failed']);
    expect(result.run?.state).toBe('RUNNING');
    expect(result.error).toBeInstanceOf(RunTimeoutError);
    expect((result.error as RunTimeoutError).timeoutMs).toBe(1000);
  });

  it('without wait, a run that has already ended badly fails the run step', async () => {
    const noWait = resolvedOf(loadConfigSync(path.resolve('examples/quickstart/lolpop.yaml'), { runSettings: { wait: false } }, orchestratorLookup, {}));
    const orchestrator = fakeOrchestrator();
    orchestrator.run = async () => ({ id: 'r1', url: 'https://orchestrator.example/runs/r1', state: 'CRASHED', created: true });
    const result = await runPipeline(noWait, ['run'], orchestrator, new MemoryLogger());
    expect(statuses(result)).toEqual(['run:failed']);
    expect(result.error?.message).toBe('Run r1 of quickstart ended CRASHED; see https://orchestrator.example/runs/r1');
  });

  it('stops at the first failure and marks the rest skipped', async () => {
    const orchestrator = fakeOrchestrator();
    orchestrator.deploy = async () => {
      throw new Error('server said no');
    };
    const result = await runPipeline(config, ['package', 'deploy', 'run'], orchestrator, new MemoryLogger());
    expect(statuses(result)).toEqual(['package:success', 'deploy:failed', 'run:skipped', 'wait:skipped']);
    expect(orchestrator.calls).toEqual(['package']);
  });

  it('hands every step the one resolved deployment, and what the step before produced', async () => {
    const orchestrator = fakeOrchestrator();
    const seen: unknown[] = [];
    const { package: pkg, deploy, run, stop } = orchestrator;
    orchestrator.package = async (request) => (seen.push(request.resolved), pkg(request));
    orchestrator.deploy = async (request) => {
      seen.push(request.resolved);
      expect(request.packaged?.files).toEqual(['prefect_files/run.py']);
      return deploy(request);
    };
    orchestrator.run = async (request) => {
      seen.push(request.resolved);
      expect(request.deployment).toEqual({ id: 'd1', name: 'flow/quickstart' });
      // The copies module orchestrators read are the resolved deployment's own parts.
      expect([request.deploymentName, request.kwargs, request.deployKwargs]).toEqual([config.name, config.run, config.deploy]);
      return run(request);
    };
    orchestrator.stop = async (request) => (seen.push(request.resolved), stop(request));
    // The checks above run inside the steps: a failed one fails its step, seen here.
    const ran = await runPipeline(config, ['package', 'deploy', 'run'], orchestrator, new MemoryLogger());
    const stopped = await runPipeline(config, ['stop'], orchestrator, new MemoryLogger());
    expect(ran.error).toBeUndefined();
    expect(stopped.error).toBeUndefined();
    expect([...statuses(ran), ...statuses(stopped)]).toEqual(['package:success', 'deploy:success', 'run:success', 'wait:success', 'stop:success']);
    expect(seen).toHaveLength(4);
    for (const resolved of seen) expect(resolved).toBe(config);
  });
});

describe('runPipeline with plan', () => {
  it('runs plan alone, asks the orchestrator for the steps given with it, and never waits', async () => {
    const orchestrator = fakeOrchestrator();
    const asked: string[][] = [];
    orchestrator.plan = async (request) => {
      asked.push(request.steps);
      return { files: [], kept: [], actions: ['record deployment'], requests: [] };
    };
    const result = await runPipeline(config, ['plan', 'deploy', 'run'], orchestrator, new MemoryLogger());
    expect(result.error).toBeUndefined();
    expect(statuses(result)).toEqual(['plan:success']);
    expect(asked).toEqual([['deploy', 'run']]);
    expect(orchestrator.calls).toEqual([]);
  });

  it('an orchestrator without plan() fails the plan step saying so', async () => {
    const result = await runPipeline(config, ['plan'], fakeOrchestrator(), new MemoryLogger());
    expect(result.error?.message).toBe('LocalOrchestrator cannot plan: it has no plan() method');
  });
});
