import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { LocalConfig, resolveStateDir } from '../../src/orchestrators/local/config.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { localProject } from './project.js';

const EXPECTED = 'expected a relative path to a folder inside the working directory, e.g. .lolpop-deploy';

describe('orchestrator.config.state_dir is confined to the project', () => {
  it.each([
    ['../../etc', `'../../etc' climbs out with '..'`],
    ['state/../../x', `'state/../../x' climbs out with '..'`],
    ['a\0b', 'contains a NUL byte'],
    ['/proc/self/cwd/x', `'/proc/self/cwd/x' is under /proc`],
    ['/sys/x', `'/sys/x' is under /sys`],
    ['/dev/shm/state', `'/dev/shm/state' is under /dev`],
  ])('the schema refuses %j', (stateDir, why) => {
    const result = LocalConfig.safeParse({ state_dir: stateDir });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(`${why}; ${EXPECTED}`);
  });

  it('the config loader names the key and the line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lolpop-state-dir-'));
    const file = path.join(dir, 'lolpop.yaml');
    writeFileSync(file, 'orchestrator:\n  config:\n    state_dir: ../../etc\n  deployment:\n    package:\n      lolpop_class: X\n');
    const error = (() => {
      try {
        loadConfigSync(file, {}, orchestratorLookup, {});
      } catch (e) {
        return e;
      }
      return undefined;
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/lolpop\.yaml:3:5: orchestrator\.config\.state_dir: '\.\.\/\.\.\/etc' climbs out with '\.\.'; expected a relative path/);
  });

  it('at construction, the resolved path must be inside the working directory', () => {
    const workdir = mkdtempSync(path.join(tmpdir(), 'lolpop-state-dir-'));
    const refuse = (stateDir: string) => {
      try {
        resolveStateDir(stateDir, workdir);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      return undefined;
    };
    expect(refuse('/etc')).toBe(`orchestrator.config.state_dir: '/etc' resolves to /etc, outside the working directory ${workdir}; ${EXPECTED}`);
    expect(refuse('.')).toBe(`orchestrator.config.state_dir: '.' resolves to ${workdir}, the working directory itself; ${EXPECTED}`);
    expect(refuse('../../etc')).toMatch(/^orchestrator\.config\.state_dir: '\.\.\/\.\.\/etc' climbs out with '\.\.'/);
    expect(refuse('x\0')).toMatch(/^orchestrator\.config\.state_dir: contains a NUL byte/);
    expect(refuse('/proc/1/root/tmp')).toMatch(/is under \/proc/);
    // A link inside the project that leads out of it.
    symlinkSync('/etc', path.join(workdir, 'out'));
    expect(refuse('out/state')).toMatch(/^orchestrator\.config\.state_dir: 'out\/state' leads to \/etc\/state through a symbolic link, outside the working directory/);
    // Inside is fine, relative or absolute, existing or not.
    mkdirSync(path.join(workdir, 'state'));
    expect(resolveStateDir('state', workdir)).toBe(path.join(workdir, 'state'));
    expect(resolveStateDir(path.join(workdir, 'a/b'), workdir)).toBe(path.join(workdir, 'a/b'));
    expect(resolveStateDir('.lolpop-deploy', workdir)).toBe(path.join(workdir, '.lolpop-deploy'));
  });

  it('the orchestrator refuses an absolute state_dir outside the project when it is created', () => {
    expect(() => localProject({}, { state_dir: '/tmp' })).toThrow(ConfigError);
    expect(() => localProject({}, { state_dir: '/tmp' })).toThrow(/^orchestrator\.config\.state_dir: '\/tmp' resolves to \/tmp, outside the working directory/);
  });
});
