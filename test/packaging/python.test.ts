import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { isPythonIdentifier, pyKeywordArgs, pyLiteral } from '../../src/packaging/python.js';

describe('pyLiteral', () => {
  it.each([
    [null, 'None'],
    [true, 'True'],
    [false, 'False'],
    [3, '3'],
    [-0.25, '-0.25'],
    ['plain', '"plain"'],
    ['quote " backslash \\ newline \n tab \t', '"quote \\" backslash \\\\ newline \\n tab \\t"'],
    ['unicode é \u2028', '"unicode é \\u2028"'],
    [[1, 'a', [null]], '[1, "a", [None]]'],
    [{ 'key with space': { n: 1 } }, '{"key with space": {"n": 1}}'],
    [[], '[]'],
    [{}, '{}'],
  ])('%j → %s', (value, python) => {
    expect(pyLiteral(value, 'flow_kwargs')).toBe(python);
  });

  it.each([[NaN], [undefined], [new Date(0)], [() => 1]])('rejects %s with a ConfigError', (value) => {
    expect(() => pyLiteral({ bad: value }, 'flow_kwargs')).toThrow(ConfigError);
    expect(() => pyLiteral({ bad: value }, 'flow_kwargs')).toThrow('Invalid value in flow_kwargs.bad');
  });
});

describe('pyKeywordArgs', () => {
  it('renders a mapping as keyword arguments, in order', () => {
    expect(pyKeywordArgs({ log_prints: true, retries: 3 }, 'flow_kwargs')).toBe('log_prints=True, retries=3');
  });
});

describe('isPythonIdentifier', () => {
  it.each([
    ['QuickstartRunner', true],
    ['_private', true],
    ['match', true],
    ['build_all2', true],
    ['2fast', false],
    ['with-dash', false],
    ['None', false],
    ['lambda', false],
    ['', false],
  ])('%j → %s', (name, expected) => {
    expect(isPythonIdentifier(name)).toBe(expected);
  });
});
