import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CoreLogger } from '../../src/action/core-logger.js';
import { obeyedCommands } from './runner-commands.js';

// A run name from a server or a line of local run output with `::warning::`,
// `::add-mask::` (or the legacy `##[…]`) was printed as it came, and the runner obeyed it.
describe('text logged by the action is shown to the runner, not obeyed', () => {
  let log = '';
  beforeEach(() => {
    log = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      log += String(chunk);
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['a run name with a newline and ::warning::', 'Run state of my-run\n::warning::Deploy to production approved'],
    ['run output starting with ::', '::error file=README.md::your token expired, paste it here'],
    ['indented, after a carriage return', 'progress 50%\r   ::add-mask::ordinary-word'],
    ['the legacy ##[…] form', 'output: ##[set-env name=NODE_OPTIONS;]--require=/tmp/x.js'],
  ])('%s', (_name, untrusted) => {
    new CoreLogger().info(untrusted);
    expect(obeyedCommands(log)).toEqual([]);
    // Still shown, as it was.
    expect(log).toContain(untrusted);
  });

  it("the action's own commands still work", () => {
    const logger = new CoreLogger();
    logger.addSecret('a-secret-value');
    logger.warning('a warning of ours\n::error::not a second command');
    expect(obeyedCommands(log)).toEqual(['::add-mask::a-secret-value', '::warning::a warning of ours%0A::error::not a second command']);
  });
});
