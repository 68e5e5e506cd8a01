import { z } from 'zod';
import { OrchestratorError } from '../errors.js';
import { asRunState, type Orchestrator, type RunResult } from './orchestrator.js';

/**
 * What a user's orchestrator module answers is checked before anything reads it, as a
 * server's answer is: its run() and wait() give a run id, a URL and a state (any
 * other state than the shared RunState vocabulary is UNKNOWN); a deploy an id and a
 * name. A module in plain JavaScript has no compiler to hold it to the types.
 */
const ModuleRun = z.object({
  id: z.string().min(1),
  url: z.string(),
  state: z.string().transform((s) => asRunState(s.toUpperCase())),
  created: z.boolean().default(true),
});
const ModuleDeployment = z.object({ id: z.string().min(1), name: z.string().min(1), url: z.string().optional() });

export function checkedModuleOrchestrator(name: string, inner: Orchestrator): Orchestrator {
  const check = <S extends z.ZodType>(schema: S, method: string, value: unknown): z.output<S> => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    throw new OrchestratorError(`${name}: ${method}() returned ${JSON.stringify(value) ?? 'nothing'}; expected ${issue.path.join('.') || 'an object'}: ${issue.message}`);
  };
  return {
    ...(inner.prepare ? { prepare: (steps) => inner.prepare!(steps) } : {}),
    ...(inner.plan ? { plan: (request) => inner.plan!(request) } : {}),
    package: (request) => inner.package(request),
    deploy: async (request) => check(ModuleDeployment, 'deploy', await inner.deploy(request)),
    run: async (request): Promise<RunResult> => check(ModuleRun, 'run', await inner.run(request)),
    wait: async (request): Promise<RunResult> => check(ModuleRun, 'wait', await inner.wait(request)),
    stop: (request) => inner.stop(request),
  };
}
