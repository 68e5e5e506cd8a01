import { MIN_SECRET_LENGTH } from '../redaction.js';

/**
 * `${VAR}` references in config values are expanded from the environment, so
 * secrets never live in the file. `$${` is a literal `${`.
 * The values of secret variables (by their name, or marked in LOLPOP_DEPLOY_SECRETS)
 * are returned as secrets so the caller masks them everywhere; other values (a team
 * name, a bucket) are left alone: masking "ml" everywhere corrupts YAML and HTML.
 */
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Names the user marks secret: comma- or space-separated variable names. */
export const SECRETS_VARIABLE = 'LOLPOP_DEPLOY_SECRETS';

// A word of the name (split at `_` and camelCase humps) that says it holds a secret.
const SECRET_WORD =
  /^(TOKENS?|SECRETS?|PASSWORDS?|PASSWD|PWD|PASS|PASSPHRASE|KEYS?|APIKEY|PRIVATEKEY|ACCESSKEY|AUTH|CREDENTIALS?|CREDS|CERT|CERTIFICATE|SESSION|COOKIE|DSN)$/;

/** Whether the variable `name` holds a secret: a secret-looking word in it, or marked by the user. */
export function isSecretVariable(name: string, env: NodeJS.ProcessEnv): boolean {
  if (markedSecret(env).has(name)) return true;
  // The shell's working directory, not a password.
  if (name === 'PWD' || name === 'OLDPWD') return false;
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase().split('_');
  return words.some((word) => SECRET_WORD.test(word)) || /(^|_)CONNECTION_STRING(_|$)/.test(words.join('_'));
}

function markedSecret(env: NodeJS.ProcessEnv): Set<string> {
  return new Set((env[SECRETS_VARIABLE] ?? '').split(/[\s,]+/).filter((name) => name !== ''));
}

export interface Expansion {
  value: string;
  secrets: string[];
  /** Names referenced but not set; the caller reports them with their position. */
  missing: string[];
  /** Secret values too short to be masked, said once each. */
  warnings: string[];
}

export function expandEnv(text: string, env: NodeJS.ProcessEnv): Expansion {
  const secrets: string[] = [];
  const missing: string[] = [];
  const warnings: string[] = [];
  const value = text.replace(REFERENCE, (match, name: string | undefined) => {
    if (name === undefined) return '${';
    const found = env[name];
    if (found === undefined) {
      missing.push(name);
      return match;
    }
    // A password written into a URL (`postgres://u:pw@db`) is a secret whatever the variable is called.
    secrets.push(...urlPasswords(found));
    if (isSecretVariable(name, env) && found.length > 0) {
      if (found.length >= MIN_SECRET_LENGTH) secrets.push(found);
      else warnings.push(`\${${name}} is secret but only ${found.length} character${found.length === 1 ? '' : 's'} long: values shorter than ${MIN_SECRET_LENGTH} are never masked`);
    }
    return found;
  });
  return { value, secrets, missing, warnings };
}

/** A URL's userinfo password, anywhere in a value: as written, and decoded. */
const URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:([^/\s@]+)@/gi;

function urlPasswords(value: string): string[] {
  const found = new Set<string>();
  for (const match of value.matchAll(URL_PASSWORD)) {
    const written = match[1]!;
    found.add(written);
    try {
      found.add(decodeURIComponent(written));
    } catch {
      // Not percent-encoding after all: the written form is the one printed.
    }
  }
  return [...found].filter((s) => s.length >= MIN_SECRET_LENGTH);
}
