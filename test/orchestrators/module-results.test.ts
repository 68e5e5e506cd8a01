import { describe, expect, it } from 'vitest';
import { checkedModuleOrchestrator } from '../../src/orchestrators/module-results.js';
import type { Orchestrator, RunRequest } from '../../src/orchestrators/orchestrator.js';

/** A module's orchestrator as plain JavaScript may write it: answers of any shape. */
function moduleWith(runAnswer: unknown, deployAnswer: unknown = { id: 'd1', name: 'x' }): Orchestrator {
  return {
    package: async () => ({ files: [], entrypoint: 'run.py:main' }),
    deploy: async () => deployAnswer as never,
    run: async () => runAnswer as never,
    wait: async () => runAnswer as never,
    stop: async () => ({ stopped: true, detail: 'gone' }),
  };
}
const request = {} as RunRequest;

describe("a module orchestrator's answers, checked before use", () => {
  it('a state outside the shared vocabulary becomes UNKNOWN; a lower-case one is read; created defaults to true', async () => {
    const checked = checkedModuleOrchestrator('./mine.mjs', moduleWith({ id: 'r1', url: 'file:///log', state: 'completed' }));
    expect(await checked.run(request)).toEqual({ id: 'r1', url: 'file:///log', state: 'COMPLETED', created: true });
    const odd = checkedModuleOrchestrator('./mine.mjs', moduleWith({ id: 'r1', url: '', state: 'DONE-ISH', created: false }));
    expect(await odd.wait({ run: { id: 'r1', url: '', state: 'RUNNING', created: true }, timeoutMs: 1, pollMs: 1 })).toMatchObject({ state: 'UNKNOWN', created: false });
  });

  it('an answer without a run id is one clear error naming the module and the method', async () => {
    const checked = checkedModuleOrchestrator('./mine.mjs', moduleWith({ url: 'x', state: 'RUNNING' }));
    await expect(checked.run(request)).rejects.toThrow(`./mine.mjs: run() returned {"url":"x","state":"RUNNING"}; expected id: Invalid input: expected string, received undefined`);
    await expect(checkedModuleOrchestrator('./mine.mjs', moduleWith(undefined)).run(request)).rejects.toThrow(/^\.\/mine\.mjs: run\(\) returned nothing; expected an object/);
    await expect(checkedModuleOrchestrator('./mine.mjs', moduleWith({}, 'ok')).deploy({} as never)).rejects.toThrow(/^\.\/mine\.mjs: deploy\(\) returned "ok"; expected an object/);
  });
});
