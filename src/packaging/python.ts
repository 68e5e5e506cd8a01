import { ConfigError } from '../errors.js';

/** Python's hard keywords: valid-looking identifiers that cannot name a class, function or argument. */
const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in',
  'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

// ASCII only on purpose: Python accepts Unicode identifiers, but a class or module name
// that is not ASCII is almost always a typo or a copy-paste accident.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` can be a Python function, class or keyword-argument name. */
export function isPythonIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !PYTHON_KEYWORDS.has(name);
}

/** Throws a ConfigError naming `key` unless `value` is a Python identifier. */
export function assertIdentifier(key: string, value: string, example: string): void {
  if (!isPythonIdentifier(value)) {
    throw new ConfigError(
      `Invalid ${key} '${value}'. Expected a Python identifier (letters, digits and _, not starting with a digit, not a keyword), e.g. ${example}.`,
    );
  }
}

/** Throws a ConfigError naming `key` unless `value` is a dotted module path (`pkg.module`). */
export function assertModulePath(key: string, value: string, example: string): void {
  // `runner.py` parses as module `py` of package `runner`, but it is a file name by mistake.
  if (!value.split('.').every(isPythonIdentifier) || value.endsWith('.py')) {
    throw new ConfigError(
      `Invalid ${key} '${value}'. Expected a Python module path (identifiers joined by dots, no .py), e.g. ${example}.`,
    );
  }
}

/**
 * A Python string literal. JSON's escapes (\" \\ \n \t \uXXXX …) all mean the same in a
 * Python string, so JSON.stringify does the work; U+2028/U+2029 are escaped too because
 * JSON leaves them raw and they are easy to lose in editors.
 */
export function pyString(value: string): string {
  return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * A JSON-like value as a Python literal: strings quoted, booleans True/False, null None,
 * lists and dicts recursively. lolpop iterated a dict as pairs and pasted values unquoted
 * (LOLPOP bug 4); anything that has no literal form is a ConfigError naming `key`.
 */
export function pyLiteral(value: unknown, key: string): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw unsupported(key, String(value));
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => pyLiteral(v, `${key}[${i}]`)).join(', ')}]`;
  if (isPlainObject(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${pyString(k)}: ${pyLiteral(v, `${key}.${k}`)}`);
    return `{${entries.join(', ')}}`;
  }
  throw unsupported(key, typeof value);
}

/**
 * A record as Python keyword arguments (`log_prints=True, retries=2`), for a call such
 * as `@flow(...)`. Keys must be identifiers, or Python would not parse the call.
 */
export function pyKeywordArgs(record: Record<string, unknown>, key: string): string {
  return Object.entries(record)
    .map(([name, value]) => {
      if (!isPythonIdentifier(name)) {
        throw new ConfigError(`Invalid key '${name}' in ${key}. Expected a Python keyword-argument name, e.g. log_prints.`);
      }
      return `${name}=${pyLiteral(value, `${key}.${name}`)}`;
    })
    .join(', ');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function unsupported(key: string, what: string): ConfigError {
  return new ConfigError(
    `Invalid value in ${key}: ${what}. Expected a string, finite number, boolean, null, list or mapping.`,
  );
}
