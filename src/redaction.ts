/**
 * The one redaction rule. Masking the exact text of a secret is not enough: the plan,
 * the PR comment, `--json` and the local launcher print values JSON-encoded, URLs carry
 * them percent-encoded, generated files quote them for a shell or for Python. Every
 * exit (the action's log, outputs, summary and comment; the CLI's stderr, stdout and
 * `error:` line) hides every form below of every secret a logger was given.
 */

/** Shorter values are never masked: hiding "ml" or "1" everywhere corrupts YAML and HTML. */
export const MIN_SECRET_LENGTH = 4;

/**
 * A line of a multi-line secret (a PEM key, a service-account JSON) is masked on its own
 * when it is at least this long: the runner masks line by line, and a shorter line
 * (`{`, `-----`) would be noise.
 */
const MIN_LINE_LENGTH = 8;

/**
 * Every form in which the project itself may print `secret`: each encoding below, and
 * each encoding of each of them (a JSON string inside `--json`, JSON in HTML); each
 * line of a multi-line secret in each encoding; the base64 of a `user:password`. Empty
 * when the secret is too short to mask.
 */
export function secretForms(secret: string): string[] {
  if (secret.length < MIN_SECRET_LENGTH) return [];
  const lines = secret
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line.length >= MIN_LINE_LENGTH && line !== secret);
  const forms = [...encodings(secret).flatMap(encodings), ...lines.flatMap(encodings)];
  // `user:password` goes into an Authorization: Basic header as base64.
  if (secret.includes(':')) forms.push(Buffer.from(secret, 'utf8').toString('base64'));
  return [...new Set(forms)].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

/**
 * Raw, JSON string body, JSON with non-ASCII escaped (Python's json.dumps, the launcher),
 * URL (encodeURIComponent, form `+`, URL userinfo), shell single-quoted and Python
 * literal bodies, HTML (the run report) and the summary's `<`/`>` escaping.
 */
function encodings(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  return [
    value,
    json,
    // Python's json.dumps (ensure_ascii): everything outside printable ASCII as \uXXXX, lower case.
    json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    ...urlEncodings(value),
    // Inside '…': each ' becomes '\''.
    value.replaceAll("'", "'\\''"),
    pythonReprBody(value),
    value.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!),
    value.replace(/[<>]/g, (c) => HTML_ENTITIES[c]!),
  ];
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function urlEncodings(value: string): string[] {
  const userinfo = new URL('http://host');
  userinfo.password = value;
  const forms = [userinfo.password, new URLSearchParams([['', value]]).toString().slice(1)];
  try {
    forms.push(encodeURIComponent(value));
  } catch {
    // A lone surrogate: encodeURIComponent cannot encode it, so nothing printed it that way.
  }
  return forms;
}

// What Python's str.isprintable() refuses, apart from the space.
const PYTHON_UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** The inside of Python's repr() of a str: its quote chosen as Python does, non-printables escaped. */
function pythonReprBody(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = '';
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (c === '\\' || c === quote) out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c !== ' ' && PYTHON_UNPRINTABLE.test(c)) {
      const hex = code.toString(16);
      out += code < 0x100 ? `\\x${hex.padStart(2, '0')}` : code < 0x10000 ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`;
    } else out += c;
  }
  return out;
}

/**
 * The secrets a logger was given, and the rule that hides them. Iterates over the
 * values as given (for leak checks); `redact` matches every form of each, longest first.
 */
export class SecretSet implements Iterable<string> {
  private readonly values = new Set<string>();
  private readonly forms = new Set<string>();
  private pattern: RegExp | undefined;

  /** Adds a secret; returns its forms not known before (for the runner's own masking). */
  add(value: string): string[] {
    if (value.length < MIN_SECRET_LENGTH || this.values.has(value)) return [];
    this.values.add(value);
    const added = secretForms(value).filter((form) => !this.forms.has(form));
    for (const form of added) this.forms.add(form);
    if (added.length > 0) this.pattern = undefined;
    return added;
  }

  /** `text` with every form of every secret replaced by `***`. */
  redact(text: string): string {
    if (this.forms.size === 0) return text;
    // One alternation, longest first: at each position the longest form wins, and a
    // `***` already written is never searched again.
    this.pattern ??= new RegExp(
      [...this.forms]
        .sort((a, b) => b.length - a.length)
        .map((form) => form.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, '***');
  }

  [Symbol.iterator](): Iterator<string> {
    return this.values.values();
  }
}

/** `text` with every form of `secrets` hidden: for a message written before any logger knew them. */
export function redact(text: string, secrets: Iterable<string>): string {
  const set = new SecretSet();
  for (const secret of secrets) set.add(secret);
  return set.redact(text);
}
