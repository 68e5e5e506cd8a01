import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CoreLogger } from '../../src/action/core-logger.js';
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

// The runner masks only the exact values it was given with ::add-mask::, line by line:
// every form is registered with it, so text that reaches the log by another way
// (a failure annotation) is masked there too.
describe('the action registers every form of a secret with the runner', () => {
  let log = '';
  beforeEach(() => {
    log = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      log += String(chunk);
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it.each(Object.entries(encodingsOf(HOSTILE_SECRET)))('%s', (_name, encoded) => {
    new CoreLogger().addSecret(HOSTILE_SECRET);
    // As the runner reads the command: its data unescaped (%0D, %0A, %25).
    const masks = [...log.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1]!.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));
    expect(masks).toContain(encoded);
  });
});
