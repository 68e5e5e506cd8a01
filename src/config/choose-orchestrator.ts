import { ConfigError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import type { ConfigPath } from './locate.js';
import type { LoadOptions, OrchestratorLookup } from './load.js';
import type { ConfigOverrides } from './overrides.js';

export const DEFAULT_ORCHESTRATOR = 'LocalOrchestrator';

/** The orchestrator a file names: `decorator.orchestrator` (or lolpop's other spelling, `decorators`). */
export interface Decorated {
  key: 'decorator' | 'decorators';
  name: string | undefined;
}

/**
 * Which orchestrator deploys, in lolpop's order: the one named on the command line
 * (--packager/--deployer) or by the action's input, then `decorator.orchestrator`, then
 * the local default. `decorator.orchestrator` is lolpop's key: lolpop loads it as a
 * Python class when it builds the runner, so only lolpop's class names belong there; a
 * module of ours (./my_orchestrator.mjs) is chosen by flag or input. A name we do not
 * deploy with (a typo, or a lolpop orchestrator we lack) is `options.unknownOrchestrator`'s
 * decision: fail, or warn and deploy with the default.
 */
export function chooseOrchestrator(
  decorated: Decorated,
  chosen: ConfigOverrides['orchestrator'],
  lookup: OrchestratorLookup,
  options: LoadOptions,
  at: (p: ConfigPath) => string,
  warnings: string[],
): string {
  const key = `${decorated.key}.orchestrator`;
  const name = decorated.name;
  if (name !== undefined && lookup.isModuleReference(name)) {
    throw new ConfigError(
      `${at([decorated.key, 'orchestrator'])}: ${key}: '${name}' is a module path, but lolpop loads this key ` +
        'as a Python class when it builds the runner (a name it cannot load crashes the runner); ' +
        'choose your own orchestrator module with --orchestrator/--deployer/--packager or the orchestrator input',
    );
  }
  if (chosen) {
    if (!lookup.schemaFor(chosen.name) && !lookup.isModuleReference(chosen.name)) {
      throw new ConfigError(
        `${chosen.label}: unknown orchestrator '${chosen.name}'${guess(chosen.name, lookup)}; known: ${lookup.known().join(', ')} (or a module path such as ./my_orchestrator.mjs)`,
      );
    }
    return chosen.name;
  }
  if (name === undefined) return DEFAULT_ORCHESTRATOR;
  if (lookup.schemaFor(name)) return name;
  const unknown = `${key}: unknown orchestrator '${name}'${guess(name, lookup)}; lolpop-deploy deploys with ${lookup.known().join(', ')}`;
  if (options.unknownOrchestrator === 'fail') {
    throw new ConfigError(`${at([decorated.key, 'orchestrator'])}: ${unknown}. Fix the name, or choose one with the orchestrator input`);
  }
  warnings.push(`${at([decorated.key, 'orchestrator'])}: ${unknown}; deploying with ${DEFAULT_ORCHESTRATOR} (choose another with --deployer)`);
  return DEFAULT_ORCHESTRATOR;
}

function guess(name: string, lookup: OrchestratorLookup): string {
  const close = didYouMean(name, lookup.known());
  return close ? ` (did you mean ${close}?)` : '';
}
