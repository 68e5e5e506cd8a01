import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { redact, secretForms, SecretSet } from '../src/redaction.js';

// Awkward values, and what Python itself prints for them (json.dumps, repr).
const VALUES = ["it's", 'say "hi"', `both ' and "`, 'tab\there\x7f', 'nbsp\u00a0e\u0301', 'emoji 😀 ключ', 'back\\slash\r\n', 'bell\x07\x1b[0m'];

function python(values: string[]): Array<[string, string]> {
  const out = spawnSync('python3', ['-c', 'import json,sys; print(json.dumps([[json.dumps(s)[1:-1], repr(s)[1:-1]] for s in json.load(sys.stdin)]))'], {
    input: JSON.stringify(values),
    encoding: 'utf8',
  });
  return JSON.parse(out.stdout) as Array<[string, string]>;
}

describe('secretForms', () => {
  const printed = python(VALUES);
  it.each(VALUES.map((value, i) => [value, ...printed[i]!]))('%j: Python json.dumps and repr forms', (value, dumped, repr) => {
    const forms = secretForms(value);
    expect(forms).toContain(dumped);
    expect(forms).toContain(repr);
  });

  it('a user:password also as the base64 of a Basic Authorization header', () => {
    expect(secretForms('ci-admin:hunter2-pw')).toContain(Buffer.from('ci-admin:hunter2-pw').toString('base64'));
  });

  it('a value shorter than 4 characters has none; a short line of a multi-line secret is not one of its own', () => {
    expect(secretForms('abc')).toEqual([]);
    expect(secretForms('-----\nlong enough line\n}')).toContain('long enough line');
    expect(secretForms('-----\nlong enough line\n}')).not.toContain('-----');
  });
});

describe('SecretSet', () => {
  it('reports only the forms it did not know, so each is registered with the runner once', () => {
    const set = new SecretSet();
    expect(set.add('pnu_0123456789')).toEqual(['pnu_0123456789']);
    expect(set.add('pnu_0123456789')).toEqual([]);
    expect(set.add('ab')).toEqual([]);
    expect([...set]).toEqual(['pnu_0123456789']);
  });

  it('longest first, and regular-expression characters are literal', () => {
    expect(redact('a.b*c a.b*cd x+yz', ['a.b*c', 'a.b*cd', 'x+yz'])).toBe('*** *** ***');
  });
});
