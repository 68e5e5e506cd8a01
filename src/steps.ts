import { ConfigError } from './errors.js';

export const STEP_NAMES = ['plan', 'package', 'deploy', 'run', 'stop'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/**
 * "package,deploy,run" → the steps in pipeline order. `build` is lolpop's CLI
 * word for deploy and is accepted as such. `stop` runs alone; `plan` changes nothing and
 * shows what the other steps given with it would do (alone: package, deploy and run).
 */
export function parseSteps(text: string, source = 'steps'): StepName[] {
  const words = text
    .split(/[\s,]+/)
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean)
    .map((w) => (w === 'build' ? 'deploy' : w));
  if (words.length === 0) throw new ConfigError(`${source}: no step given; expected some of ${STEP_NAMES.join(', ')}`);
  for (const word of words) {
    if (!(STEP_NAMES as readonly string[]).includes(word)) {
      throw new ConfigError(`${source}: unknown step '${word}'; expected some of ${STEP_NAMES.join(', ')} (build = deploy)`);
    }
  }
  if (words.includes('plan') && words.includes('stop')) {
    throw new ConfigError(`${source}: plan shows what package, deploy and run would do; it cannot plan stop`);
  }
  if (words.includes('stop') && words.some((w) => w === 'deploy' || w === 'run')) {
    throw new ConfigError(`${source}: stop cannot run together with deploy or run`);
  }
  return STEP_NAMES.filter((s) => words.includes(s));
}

/** The steps that run: with `plan`, only plan (the others given are what it describes). */
export function runningSteps(steps: readonly StepName[]): StepName[] {
  return steps.includes('plan') ? ['plan'] : [...steps];
}

/** The steps a plan describes: those given with `plan`, else package → deploy → run. */
export function plannedSteps(steps: readonly StepName[]): StepName[] {
  const rest = steps.filter((s) => s !== 'plan');
  return rest.length > 0 ? rest : ['package', 'deploy', 'run'];
}
