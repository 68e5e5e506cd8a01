import { expect } from 'vitest';
import { ConfigError } from '../../src/errors.js';

/** The message of the ConfigError `fn` throws; fails the test when it throws none, or another error. */
export function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}
