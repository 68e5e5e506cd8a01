/**
 * `${VAR}` references in config values are expanded from the environment, so
 * secrets never live in the file. `$${` is a literal `${`.
 * Values of variables that are not known to be public are returned as secrets
 * so the caller masks them in every log line.
 */
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Variables the runner sets that are not secret (GITHUB_TOKEN is the exception). */
function isPublicVariable(name: string): boolean {
  if (name === 'GITHUB_TOKEN') return false;
  return /^(GITHUB|RUNNER|CI)(_|$)/.test(name);
}

export interface Expansion {
  value: string;
  secrets: string[];
  /** Names referenced but not set; the caller reports them with their position. */
  missing: string[];
}

export function expandEnv(text: string, env: NodeJS.ProcessEnv): Expansion {
  const secrets: string[] = [];
  const missing: string[] = [];
  const value = text.replace(REFERENCE, (match, name: string | undefined) => {
    if (name === undefined) return '${';
    const found = env[name];
    if (found === undefined) {
      missing.push(name);
      return match;
    }
    if (!isPublicVariable(name) && found.length > 0) secrets.push(found);
    return found;
  });
  return { value, secrets, missing };
}
