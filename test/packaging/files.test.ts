import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { entrypointFor, packageFiles, writePackageFiles } from '../../src/packaging/files.js';
import { isGeneratedFile } from '../../src/packaging/generated.js';
import { quickstartKwargs } from './quickstart.js';

const nothingExists = { deploymentName: 'quickstart', exists: () => false };

describe('packageFiles', () => {
  it('generates run.py and the Dockerfile, both marked as generated', () => {
    const files = packageFiles(quickstartKwargs(), nothingExists);
    expect(files.map((f) => f.path)).toEqual(['prefect_files/run.py', 'Dockerfile']);
    expect(files.every((f) => isGeneratedFile(f.content))).toBe(true);
  });

  it("keeps the user's own Dockerfile at dockerfile_path", () => {
    const asked: string[] = [];
    const files = packageFiles(quickstartKwargs({ dockerfile_path: './docker/Dockerfile' }), {
      deploymentName: 'quickstart',
      exists: (p) => (asked.push(p), p === 'docker/Dockerfile'),
    });
    expect(asked).toEqual(['docker/Dockerfile']);
    expect(files.map((f) => f.path)).toEqual(['prefect_files/run.py']);
  });

  it('writes no Dockerfile for package_type none', () => {
    expect(packageFiles(quickstartKwargs({ package_type: 'none' }), nothingExists).map((f) => f.path)).toEqual([
      'prefect_files/run.py',
    ]);
  });

  it("writes no wrapper when flow_entrypoint names the user's flow", () => {
    const files = packageFiles(quickstartKwargs({ flow_entrypoint: 'flows/train.py:train' }), nothingExists);
    expect(files.map((f) => f.path)).toEqual(['Dockerfile']);
  });
});

describe('entrypointFor', () => {
  it.each([
    [{}, 'prefect_files/run.py:prefect_entrypoint'],
    [{ prefect_files: 'deploy/prefect//', flow_name: 'train_flow' }, 'deploy/prefect/run.py:train_flow'],
    [{ flow_entrypoint: 'flows/train.py:train' }, 'flows/train.py:train'],
  ])('%j → %s', (overrides, expected) => {
    expect(entrypointFor(quickstartKwargs(overrides))).toBe(expected);
  });
});

describe('writePackageFiles', () => {
  it('creates directories and writes each file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lolpop-files-'));
    const written = writePackageFiles(dir, [
      { path: 'prefect_files/nested/run.py', content: 'print(1)\n' },
      { path: 'Dockerfile', content: 'FROM x\n' },
    ]);
    expect(written).toEqual([join(dir, 'prefect_files/nested/run.py'), join(dir, 'Dockerfile')]);
    expect(readFileSync(join(dir, 'prefect_files/nested/run.py'), 'utf8')).toBe('print(1)\n');
  });

  it('refuses a path outside the directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lolpop-files-'));
    expect(() => writePackageFiles(dir, [{ path: '../escape.py', content: '' }])).toThrow(ConfigError);
  });
});
