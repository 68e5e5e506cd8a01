import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/logger.js';
import { encodingsOf, HOSTILE_SECRET } from './secret-encodings.js';

// Masking matched only a secret's exact text: the plan, the PR comment, --json and the
// local launcher print values JSON-encoded, so a secret with ", \, a newline or
// non-ASCII letters was shown. Every logger (and so every exit) now hides every form.
describe('a secret is hidden in every encoding the project prints it in', () => {
  const encodings = Object.entries(encodingsOf(HOSTILE_SECRET));

  it.each(encodings)('%s', (_name, encoded) => {
    expect(encoded.length).toBeGreaterThan(8);
    const logger = new MemoryLogger();
    logger.addSecret(HOSTILE_SECRET);
    logger.info(`parameters {"sa": "${encoded}"} sent`);
    const shown = logger.lines.join('\n');
    expect(shown).not.toContain(encoded);
    expect(shown).toContain('***');
  });

  it('the longest form wins: nothing of the secret is left beside the ***', () => {
    const logger = new MemoryLogger();
    logger.addSecret(HOSTILE_SECRET);
    logger.addSecret('service_account');
    logger.info(`a ${JSON.stringify(HOSTILE_SECRET)} b`);
    expect(logger.lines).toEqual(['info: a "***" b']);
  });
});
