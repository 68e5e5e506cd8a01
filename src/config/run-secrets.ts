import { ConfigError } from '../errors.js';
import { checkSecretParameters } from '../secret-parameters.js';
import type { ConfigPath } from './locate.js';
import type { OrchestratorLookup } from './load.js';
import type { DeployKwargs } from './schema.js';

/**
 * Secrets among the parameters: only in run.secret_parameters, and those only for a
 * built-in orchestrator (each delivers them through its own secret store; a user's module
 * would get them as plain parameters).
 */
export function checkRunSecrets(
  deployment: { deploy: DeployKwargs; run: { parameters: Record<string, unknown>; secret_parameters?: string[] } },
  secrets: string[],
  orchestrator: string,
  lookup: OrchestratorLookup,
  at: (p: ConfigPath) => string,
): void {
  const names = deployment.run.secret_parameters ?? [];
  const key = ['orchestrator', 'deployment', 'run', 'secret_parameters'];
  if (names.length > 0 && lookup.isModuleReference(orchestrator)) {
    throw new ConfigError(
      `${at(key)}: run.secret_parameters: ${orchestrator} is a module of yours, and lolpop-deploy delivers secret parameters only through ` +
        `its built-in orchestrators' secret stores; remove them and hand the secret to your module another way`,
    );
  }
  checkSecretParameters({ deploy: deployment.deploy.parameters, run: deployment.run.parameters }, names, secrets, (section, name) =>
    at(name === undefined ? key : ['orchestrator', 'deployment', section, 'parameters', name]),
  );
}
