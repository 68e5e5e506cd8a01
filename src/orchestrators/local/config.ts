import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { escapeProblem, isWithin } from '../../project-files.js';

export const STATE_DIR_KEY = 'orchestrator.config.state_dir';
const EXPECTED = 'expected a relative path to a folder inside the working directory, e.g. .lolpop-deploy';
/** Kernel file systems: nothing is recorded there (mkdir under /proc never ends). */
const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'];

/**
 * What can be said of a state_dir without knowing the working directory: why it is
 * refused, or undefined. The resolved path is checked by `resolveStateDir`.
 */
export function stateDirProblem(stateDir: string): string | undefined {
  if (stateDir.includes('\0')) return `contains a NUL byte; ${EXPECTED}`;
  if (stateDir.split(/[\\/]+/).includes('..')) return `'${stateDir}' climbs out with '..'; ${EXPECTED}`;
  const system = SYSTEM_ROOTS.find((root) => isWithin(root, path.posix.normalize(stateDir.replace(/\\/g, '/'))));
  if (system) return `'${stateDir}' is under ${system}; ${EXPECTED}`;
  return undefined;
}

/**
 * The state folder's absolute path: inside `workdir` (not the folder itself), also once
 * symbolic links are followed, and never under /proc, /sys or /dev. A ConfigError naming
 * orchestrator.config.state_dir otherwise.
 */
export function resolveStateDir(stateDir: string, workdir: string): string {
  const refuse = (why: string) => new ConfigError(`${STATE_DIR_KEY}: ${why}`);
  const problem = stateDirProblem(stateDir);
  if (problem) throw refuse(problem);
  const resolved = path.resolve(workdir, stateDir);
  if (!isWithin(workdir, resolved) || resolved === path.resolve(workdir)) {
    throw refuse(`'${stateDir}' resolves to ${resolved}, ${resolved === path.resolve(workdir) ? 'the working directory itself' : `outside the working directory ${workdir}`}; ${EXPECTED}`);
  }
  // Follow links on the part that exists: .lolpop-deploy -> /etc is outside too.
  const { real, problem: escapes } = escapeProblem(workdir, resolved);
  if (escapes) throw refuse(`'${stateDir}' ${escapes}; ${EXPECTED}`);
  if (real === escapeProblem(workdir, workdir).real) {
    throw refuse(`'${stateDir}' leads to ${real} through a symbolic link, the working directory itself; ${EXPECTED}`);
  }
  const system = SYSTEM_ROOTS.find((root) => isWithin(root, real));
  if (system) throw refuse(`'${stateDir}' resolves to ${real}, under ${system}; ${EXPECTED}`);
  return resolved;
}

/**
 * LocalOrchestrator's `orchestrator.config`. lolpop's own decorator keys
 * (decorator_method, integration_types, …) pass through untouched.
 */
export const LocalConfig = z
  .object({
    python: z
      .string()
      .min(1)
      .optional()
      .describe('Python interpreter for runs; the PYTHON environment variable wins, else python3 from PATH.'),
    state_dir: z
      .string()
      .min(1)
      .default('.lolpop-deploy')
      .superRefine((value, ctx) => {
        const problem = stateDirProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('Where deployments and runs are recorded: a folder inside the working directory.'),
    use_prefect: z
      .boolean()
      .default(false)
      .describe('Run through the generated Prefect flow (prefect_files/run.py) when prefect is importable; else call the runner directly.'),
    flow_kwargs: z.record(z.string(), z.unknown()).optional().describe('@flow(...) arguments for the generated entrypoint.'),
  })
  .loose();

export type LocalConfig = z.infer<typeof LocalConfig>;
