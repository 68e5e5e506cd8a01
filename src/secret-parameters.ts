import { ConfigError } from './errors.js';
import { redact } from './redaction.js';

/**
 * Run parameters whose values are secrets (`run.secret_parameters`). Their values never
 * travel or rest with the other parameters: each orchestrator hands them to the run through
 * its own secret store (a Prefect Secret block, an Airflow Variable, the local run's
 * environment) and records only where they are. This file is the one place that decides
 * which parameters those are and refuses a secret anywhere else among the parameters.
 */

/** What a secret parameter's value is recorded as wherever parameters are stored or shown. */
export const REDACTED = '***';

/** A deployment's parameters with the secret ones taken out. */
export interface SeparatedParameters {
  deploy: Record<string, unknown> | undefined;
  run: Record<string, unknown>;
  /** Secret parameter name → its value (a run parameter's wins over a deploy parameter's). */
  secrets: Record<string, string>;
}

/** The parameters named in `names` taken out of both sets, their values kept apart. */
export function separateSecretParameters(
  deploy: Record<string, unknown> | undefined,
  run: Record<string, unknown>,
  names: readonly string[],
): SeparatedParameters {
  const secrets: Record<string, string> = {};
  const without = (parameters: Record<string, unknown>) => {
    const kept: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parameters)) {
      if (names.includes(key)) secrets[key] = String(value);
      else kept[key] = value;
    }
    return kept;
  };
  const deployKept = deploy && without(deploy);
  return { deploy: deployKept, run: without(run), secrets };
}

/** `parameters` as they may be recorded: each secret parameter's value `***`. */
export function redactedParameters(parameters: Record<string, unknown>, secretNames: Iterable<string>): Record<string, unknown> {
  const shown = { ...parameters };
  for (const name of secretNames) shown[name] = REDACTED;
  return shown;
}

/** Where a parameter of a section is in the config, for the error line. */
export type ParameterLocation = (section: 'deploy' | 'run', name?: string) => string;

/**
 * Refuses, at load time, what would put a secret in clear: a secret parameter that is not a
 * parameter or not a string, and any other parameter whose value holds a known secret
 * (`secrets`: the values of secret `${VAR}`s), as written or JSON-encoded.
 */
export function checkSecretParameters(
  parameters: { deploy?: Record<string, unknown>; run: Record<string, unknown> },
  names: readonly string[],
  secrets: readonly string[],
  at: ParameterLocation,
): void {
  const sections = [['deploy', parameters.deploy ?? {}] as const, ['run', parameters.run] as const];
  for (const name of names) {
    const found = sections.filter(([, values]) => Object.hasOwn(values, name));
    if (found.length === 0) {
      throw new ConfigError(`${at('run')}: run.secret_parameters: '${name}' is neither a run nor a deploy parameter; give its value in run.parameters`);
    }
    for (const [section, values] of found) {
      if (typeof values[name] !== 'string') {
        throw new ConfigError(
          `${at(section, name)}: ${section}.parameters.${name}: a secret parameter must be a string (it goes to the orchestrator's secret store as text), got ${typeName(values[name])}`,
        );
      }
    }
  }
  for (const [section, values] of sections) {
    for (const [name, value] of Object.entries(values)) {
      if (names.includes(name) || !holdsSecret(value, secrets)) continue;
      throw new ConfigError(
        `${at(section, name)}: ${section}.parameters.${name}: holds the value of a secret \${VAR}, which the orchestrator would store in clear ` +
          `with the run's parameters; list '${name}' in run.secret_parameters so it goes to the orchestrator's secret store instead`,
      );
    }
  }
}

/** Whether the value holds a secret in any form the redaction knows (the one rule: src/redaction.ts). */
function holdsSecret(value: unknown, secrets: readonly string[]): boolean {
  const text = JSON.stringify(value) ?? '';
  return redact(text, secrets) !== text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}
