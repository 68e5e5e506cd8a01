/**
 * GitHub Actions expressions (`${{ … }}`, `if:`), the part of the language a workflow of
 * this repository uses, evaluated as the runner does: literals, context paths
 * (`steps.lolpop.outputs.run-state`), `!`, `==`, `!=`, `&&`, `||` (which return an
 * operand, not a boolean), parentheses, toJSON() and format(). Anything else throws, so a
 * workflow that outgrows it fails its test instead of being evaluated wrongly.
 */
export type Contexts = Record<string, unknown>;

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^']|'')*)'|(==|!=|&&|\|\||[!(),.[\]])|([A-Za-z_][\w-]*))/y;

export function evaluate(expression: string, contexts: Contexts): unknown {
  const tokens: Array<{ kind: 'number' | 'string' | 'op' | 'name'; text: string }> = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.trimEnd().length) {
    const m = TOKEN.exec(expression);
    if (!m) throw new Error(`cannot read the expression at '${expression.slice(TOKEN.lastIndex)}'`);
    if (m[1] !== undefined) tokens.push({ kind: 'number', text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'string', text: m[2].replace(/''/g, "'") });
    else if (m[3] !== undefined) tokens.push({ kind: 'op', text: m[3] });
    else tokens.push({ kind: 'name', text: m[4]! });
  }
  let i = 0;
  const peek = (text: string) => tokens[i]?.kind === 'op' && tokens[i]!.text === text;
  const expect = (text: string) => {
    if (!peek(text)) throw new Error(`expected '${text}' in ${expression}`);
    i++;
  };
  const or = (): unknown => {
    let left = and();
    while (peek('||')) {
      i++;
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const and = (): unknown => {
    let left = equality();
    while (peek('&&')) {
      i++;
      const right = equality();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const equality = (): unknown => {
    let left = unary();
    while (peek('==') || peek('!=')) {
      const negate = tokens[i++]!.text === '!=';
      left = equal(left, unary()) !== negate;
    }
    return left;
  };
  const unary = (): unknown => {
    if (peek('!')) {
      i++;
      return !truthy(unary());
    }
    return primary();
  };
  const primary = (): unknown => {
    const token = tokens[i++];
    if (!token) throw new Error(`unexpected end of ${expression}`);
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'string') return token.text;
    if (token.kind === 'op' && token.text === '(') {
      const value = or();
      expect(')');
      return value;
    }
    if (token.kind !== 'name') throw new Error(`unexpected '${token.text}' in ${expression}`);
    if (['true', 'false', 'null'].includes(token.text)) return JSON.parse(token.text);
    if (peek('(')) {
      i++;
      const args: unknown[] = [];
      while (!peek(')')) {
        args.push(or());
        if (!peek(')')) expect(',');
      }
      i++;
      return call(token.text, args);
    }
    let value: unknown = contexts[token.text];
    while (peek('.') || peek('[')) {
      let key: string;
      if (tokens[i++]!.text === '.') key = tokens[i++]!.text;
      else {
        key = String(or());
        expect(']');
      }
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    }
    return value ?? null;
  };
  const value = or();
  if (i !== tokens.length) throw new Error(`unexpected '${tokens[i]!.text}' in ${expression}`);
  return value;
}

/** A string with each `${{ … }}` replaced by its value, as the runner does for `with:` and `run:`. */
export function interpolate(text: string, contexts: Contexts): string {
  let out = '';
  let rest = text;
  for (let start = rest.indexOf('${{'); start >= 0; start = rest.indexOf('${{')) {
    // The closing `}}` is the first one outside a '…' string literal.
    let end = start + 3;
    for (let quoted = false; end < rest.length && (quoted || !rest.startsWith('}}', end)); end++) if (rest[end] === "'") quoted = !quoted;
    if (end >= rest.length) throw new Error(`unclosed \${{ in ${text}`);
    out += rest.slice(0, start) + asString(evaluate(rest.slice(start + 3, end), contexts));
    rest = rest.slice(end + 2);
  }
  return out + rest;
}

/** An `if:` condition: an expression with or without `${{ }}`. */
export function condition(text: string | undefined, contexts: Contexts): boolean {
  if (text === undefined) return true;
  const inner = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(text)?.[1] ?? text;
  return truthy(evaluate(inner, contexts));
}

function call(name: string, args: unknown[]): unknown {
  if (name === 'toJSON') return JSON.stringify(args[0], null, 2);
  if (name === 'format') {
    const [template, ...values] = args;
    return String(template)
      .replace(/\{(\d+)\}/g, (_all, n: string) => asString(values[Number(n)]))
      .replace(/\{\{/g, '{')
      .replace(/\}\}/g, '}');
  }
  throw new Error(`the function ${name}() is not supported here`);
}

function truthy(value: unknown): boolean {
  return !(value === false || value === null || value === undefined || value === 0 || value === '' || Number.isNaN(value));
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

function asString(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value, null, 2) : String(value);
}
