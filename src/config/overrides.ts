import { OVERRIDE_SECTIONS, type StepSection } from './schema.js';

/** Values that replace the file's, as the lolpop CLI flags and the action inputs do. */
export interface ConfigOverrides {
  deploymentName?: string;
  deploymentType?: string;
  /** Appended to the deployment's name (preview deployments: `-pr-7`). */
  deploymentNameSuffix?: string;
  /** Where the overrides came from, for error messages: action inputs (default) or CLI flags. */
  source?: 'input' | 'flag';
  /**
   * The orchestrator to deploy with, as lolpop's CLI names it (--packager/--deployer) or
   * the action's `orchestrator` input; `label` names that flag or input in errors.
   */
  orchestrator?: { name: string; label: string };
  /**
   * Per section, the parsed JSON of `--packaging-kwargs` etc.; merged key by key. As in
   * lolpop, every key of `--run-kwargs` is a flow-run parameter: they are merged over
   * `run.parameters`.
   */
  kwargs?: Partial<Record<StepSection, Record<string, unknown>>>;
  /** Run settings from their own flags/inputs (--wait, --wait-timeout), merged over the `run` block. */
  runSettings?: Record<string, unknown>;
}

export interface Overridden {
  value: Record<string, unknown>;
  /** Config paths (joined by '.') whose value came from an input, with the input's name. */
  fromInput: Map<string, string>;
}

/** The file's values with the overrides applied, and which keys each input or flag set. */
export function applyOverrides(raw: Record<string, unknown>, overrides: ConfigOverrides): Overridden {
  const fromInput = new Map<string, string>();
  const orchestrator = { ...(asObject(raw.orchestrator) ?? {}) };
  const deployment = { ...(asObject(orchestrator.deployment) ?? {}) };
  if (overrides.deploymentName) {
    deployment.name = overrides.deploymentName;
    fromInput.set('orchestrator.deployment.name', 'deployment-name');
  }
  if (overrides.deploymentType) {
    deployment.type = overrides.deploymentType;
    fromInput.set('orchestrator.deployment.type', 'deployment-type');
  }
  for (const section of Object.keys(OVERRIDE_SECTIONS) as StepSection[]) {
    const values = overrides.kwargs?.[section];
    if (!values) continue;
    const block = { ...(asObject(deployment[section]) ?? {}) };
    const parameters = section === 'run';
    const target = parameters ? { ...(asObject(block.parameters) ?? {}) } : block;
    Object.assign(target, values);
    if (parameters) block.parameters = target;
    deployment[section] = block;
    for (const key of Object.keys(values)) {
      const where = parameters ? `run.parameters.${key}` : `${section}.${key}`;
      fromInput.set(`orchestrator.deployment.${where}`, OVERRIDE_SECTIONS[section]);
    }
  }
  if (overrides.runSettings) {
    deployment.run = { ...(asObject(deployment.run) ?? {}), ...overrides.runSettings };
    for (const key of Object.keys(overrides.runSettings)) {
      fromInput.set(`orchestrator.deployment.run.${key}`, key.replace(/_/g, '-'));
    }
  }
  orchestrator.deployment = deployment;
  // Name them as the user typed them: `input deployment-kwargs` or `flag --deployment-kwargs`.
  const label = (name: string) => (overrides.source === 'flag' ? `flag --${name}` : `input ${name}`);
  for (const [key, name] of fromInput) fromInput.set(key, label(name));
  return { value: { ...raw, orchestrator }, fromInput };
}

export function asObject(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
