import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { readProjectFile, writeProjectFile } from '../src/project-files.js';
import { tempDir } from './helpers/services.js';

const spec = (root: string, file: string) => ({ root, file, what: `'${file}'` });

describe('readProjectFile', () => {
  it('reads a regular file, also through a link that stays inside; undefined when there is none', () => {
    const root = tempDir('project-files');
    mkdirSync(path.join(root, 'data'));
    writeFileSync(path.join(root, 'data/train.csv'), 'a,b\n');
    symlinkSync('data/train.csv', path.join(root, 'train.csv'));
    expect(readProjectFile(spec(root, 'train.csv'), 100)?.toString()).toBe('a,b\n');
    expect(readProjectFile(spec(root, 'missing.csv'), 100)).toBeUndefined();
  });

  it('refuses a directory, a FIFO (without waiting for a writer) and a file over the bound', () => {
    const root = tempDir('project-files');
    mkdirSync(path.join(root, 'dir'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    writeFileSync(path.join(root, 'big'), 'x'.repeat(101));
    expect(() => readProjectFile(spec(root, 'dir'), 100)).toThrow(new ConfigError(`Refusing 'dir': ${path.join(root, 'dir')} is a directory, not a regular file`));
    expect(() => readProjectFile(spec(root, 'fifo'), 100)).toThrow(new ConfigError(`Refusing 'fifo': ${path.join(root, 'fifo')} is a FIFO, not a regular file`));
    expect(() => readProjectFile(spec(root, 'big'), 100)).toThrow(new ConfigError(`Refusing 'big': ${path.join(root, 'big')} holds more than 100 bytes, the most lolpop-deploy reads`));
  });
});

describe('writeProjectFile', () => {
  it('replaces a file by a rename and creates missing folders', () => {
    const root = tempDir('project-files');
    writeProjectFile(spec(root, 'a/b/run.py'), 'one\n');
    writeProjectFile(spec(root, 'a/b/run.py'), 'two\n');
    expect(readFileSync(path.join(root, 'a/b/run.py'), 'utf8')).toBe('two\n');
  });

  it('refuses a path outside by its name, and a directory where the file goes', () => {
    const root = tempDir('project-files');
    mkdirSync(path.join(root, 'Dockerfile'));
    expect(() => writeProjectFile(spec(root, '../x'), '')).toThrow(`Refusing '../x': it is outside the working directory ${root}`);
    expect(() => writeProjectFile(spec(root, 'Dockerfile'), '')).toThrow(`Refusing to write 'Dockerfile': ${path.join(root, 'Dockerfile')} is a directory, not a regular file`);
  });

  it('refuses a link that loops, as one that leads nowhere', () => {
    const root = tempDir('project-files');
    symlinkSync('loop', path.join(root, 'loop'));
    expect(() => writeProjectFile(spec(root, 'loop/run.py'), '')).toThrow(`Refusing 'loop/run.py': it goes through ${path.join(root, 'loop')}, a symbolic link to loop, which leads nowhere`);
  });
});
