import { DEFAULT_ORCHESTRATOR } from '../config/choose-orchestrator.js';
import type { OrchestratorLookup } from '../config/load.js';
import { airflowPlugin } from './airflow/plugin.js';
import { kubeflowPlugin } from './kubeflow/plugin.js';
import { localPlugin } from './local/plugin.js';
import { importPlugin, moduleSchemas } from './module-plugin.js';
import { checkedModuleOrchestrator } from './module-results.js';
import type { BuiltInOrchestrator, Orchestrator, OrchestratorContext, OrchestratorPlugin } from './orchestrator.js';
import { prefectPlugin } from './prefect/plugin.js';

/** The one place that knows every built-in orchestrator. */
const BUILT_IN: Record<string, BuiltInOrchestrator> = {
  [prefectPlugin.name]: prefectPlugin,
  [localPlugin.name]: localPlugin,
  [airflowPlugin.name]: airflowPlugin,
  [kubeflowPlugin.name]: kubeflowPlugin,
};

export function knownOrchestrators(): string[] {
  return Object.keys(BUILT_IN).sort();
}

/** A built-in orchestrator as the CLI's help, `orchestrators` and the README table name it. */
export interface OrchestratorSummary {
  name: string;
  description: string;
  docs: string;
  /** The one used when neither the config nor the command line names a built-in. */
  default: boolean;
}

/** Every built-in orchestrator, by name: the one source of every list of them users read. */
export function describeOrchestrators(): OrchestratorSummary[] {
  return knownOrchestrators().map((name) => {
    const { description, docs } = BUILT_IN[name]!;
    return { name, description, docs, default: name === DEFAULT_ORCHESTRATOR };
  });
}

/** A name with a slash or a JS extension is a module of the user's (ZenML's "flavor"). */
export function isModuleReference(name: string): boolean {
  return /[/\\]|\.(m?js|cjs)$/.test(name) || name.startsWith('@');
}

export const orchestratorLookup: OrchestratorLookup = {
  schemaFor: (name) => BUILT_IN[name]?.configSchema,
  kwargsFor: (name) => BUILT_IN[name]?.kwargs,
  packageDefaultsFor: (name, config) => BUILT_IN[name]?.packageDefaults?.(config) ?? {},
  known: knownOrchestrators,
  isModuleReference,
  withModule: async (name, workdir) => {
    // A user's module checks its own orchestrator.config and step kwargs, as a built-in does.
    const schemas = moduleSchemas(await importPlugin(name, workdir), name);
    return {
      ...orchestratorLookup,
      schemaFor: (other) => (other === name ? schemas.configSchema : orchestratorLookup.schemaFor(other)),
      kwargsFor: (other) => (other === name ? schemas.kwargs : orchestratorLookup.kwargsFor(other)),
    };
  },
};

/** What a run is called on this orchestrator (its plugin's runNoun): 'run' for a user's module or a plugin that names none. */
export function runNounOf(name: string): string {
  return BUILT_IN[name]?.runNoun ?? 'run';
}

/**
 * A built-in orchestrator's decision of where a deployment runs (its plugin's target()),
 * made once when the deployment is resolved. A user's module has none.
 */
export function orchestratorTarget(name: string): OrchestratorPlugin['target'] {
  return BUILT_IN[name]?.target;
}

/**
 * The orchestrator for a config's name: a built-in, or the default export (or
 * `plugin` export) of the user's module. `config` is `orchestrator.config` as loading
 * the file parsed it (with the module's configSchema: loadConfig imported it already).
 */
export async function createOrchestrator(name: string, config: unknown, context: OrchestratorContext): Promise<Orchestrator> {
  const builtIn = BUILT_IN[name];
  if (builtIn) return builtIn.create(config, context);
  const plugin = await importPlugin(name, context.workdir);
  // A module in plain JavaScript may create its orchestrator asynchronously.
  const created = await Promise.resolve(plugin.create(config, context) as Orchestrator | Promise<Orchestrator>);
  return checkedModuleOrchestrator(name, created);
}
