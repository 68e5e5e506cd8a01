import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../helpers/services.js';

// What a user gets from `npm pack` (a release tarball, or a registry once published):
// the package installs with no network, because dist/ is the whole program (ncc), and
// its `lolpop-deploy` bin runs the quickstart. Uses the committed dist/ as it is: no bundle.

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PKG = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
const SCHEMA_FILE = 'schema/lolpop-deploy.schema.json';
const TIMEOUT = 120_000;

/** The environment without what a parent `npm test` exports (npm_config_*, npm_package_*), which would steer the npm below. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

interface PackResult {
  filename: string;
  files: { path: string; mode: number }[];
}

describe('the npm package: npm pack, installed offline into a fresh project', () => {
  let project: string;
  let installed: string;
  let bin: string;
  let packed: PackResult;

  const run = (args: string[], cwd: string): SpawnSyncReturns<string> =>
    // The bin itself, as a shell runs it: the symlink, the executable bit and the shebang.
    spawnSync(bin, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });

  beforeAll(() => {
    const root = tempDir('npm-pack');
    const packDir = path.join(root, 'pack');
    // An empty cache and --offline: the install must need nothing but the tarball.
    const cache = path.join(root, 'npm-cache');
    project = path.join(root, 'project');
    mkdirSync(packDir);
    mkdirSync(project);
    const npm = (args: string[], cwd: string): string =>
      execFileSync('npm', [...args, '--cache', cache, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
        cwd,
        encoding: 'utf8',
        env: cleanEnv(),
        timeout: TIMEOUT,
      });

    packed = (JSON.parse(npm(['pack', '--json', '--pack-destination', packDir], REPO)) as PackResult[])[0]!;
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'npm-pack-e2e', version: '0.0.0', private: true }));
    npm(['install', '--offline', path.join(packDir, packed.filename)], project);
    installed = path.join(project, 'node_modules', PKG.name);
    bin = path.join(project, 'node_modules', '.bin', 'lolpop-deploy');
  }, TIMEOUT);

  it('packs the bundle, the action, the schema and the documents, and nothing to install with them', () => {
    expect(packed.filename).toBe(`${PKG.name}-${PKG.version}.tgz`);
    const paths = packed.files.map((f) => f.path);
    for (const file of ['dist/index.js', 'dist/cli/index.js', 'action.yml', SCHEMA_FILE, 'LICENSE', 'README.md', 'CHANGELOG.md']) {
      expect(paths, file).toContain(file);
    }
    expect(paths.filter((p) => /^(src|test|node_modules|scripts)\//.test(p))).toEqual([]);
    // The README is the user guide: the docs/ pages it links travel with it.
    const linked = [...readFileSync('README.md', 'utf8').matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(0);
    expect(linked.filter((file) => !paths.includes(file))).toEqual([]);
    // The only package installed is this one: the bundle needs no dependencies.
    expect(readdirSync(path.join(project, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual([PKG.name]);
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it('installs the lolpop-deploy bin: executable, with a node shebang', () => {
    const cli = path.join(installed, 'dist', 'cli', 'index.js');
    expect(readFileSync(cli, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env node');
    expect(statSync(cli).mode & 0o111, 'dist/cli/index.js is executable').not.toBe(0);
    expect(existsSync(bin), 'node_modules/.bin/lolpop-deploy').toBe(true);
  });

  it('--help lists the commands', () => {
    const res = run(['--help'], project);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain('Usage: lolpop-deploy');
    // build is also deploy (lolpop's name and the action's): commander lists it as build|deploy.
    for (const command of ['package', 'build\\|deploy', 'run', 'stop', 'up', 'plan', 'orchestrators']) {
      expect(res.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
  });

  it("--version prints package.json's version", () => {
    const res = run(['--version'], project);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout.trim(), 'the version compiled into dist/cli/index.js: rebuild dist/ (npm run bundle) after a version change').toBe(
      PKG.version,
    );
  });

  it('ships the JSON Schema at the path docs/cli.md gives yaml-language-server', () => {
    const schema = JSON.parse(readFileSync(path.join(project, 'node_modules', PKG.name, SCHEMA_FILE), 'utf8')) as Record<string, unknown>;
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.type).toBe('object');
  });

  it('ships action.yml, whose entry point is in the package, and the Apache 2.0 LICENSE', () => {
    const action = parse(readFileSync(path.join(installed, 'action.yml'), 'utf8')) as { runs: { using: string; main: string } };
    expect(existsSync(path.join(installed, action.runs.main)), action.runs.main).toBe(true);
    const license = readFileSync(path.join(installed, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  it(
    'runs the quickstart: lolpop-deploy up -c lolpop.yaml on a copy of examples/quickstart',
    () => {
      // Only the tracked files, as a clone has them: no state from earlier runs.
      const quickstart = path.join(project, 'quickstart');
      const files = execFileSync('git', ['ls-files', '-z', '--', 'examples/quickstart'], { cwd: REPO, encoding: 'utf8' })
        .split('\0')
        .filter(Boolean);
      expect(files).toContain('examples/quickstart/lolpop.yaml');
      for (const file of files) {
        if (!existsSync(path.join(REPO, file))) continue;
        const target = path.join(quickstart, path.relative('examples/quickstart', file));
        mkdirSync(path.dirname(target), { recursive: true });
        cpSync(path.join(REPO, file), target);
      }
      const res = run(['up', '-c', 'lolpop.yaml'], quickstart);
      expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);
      expect(res.stdout).toMatch(/^Run (\S+): COMPLETED$/m);
      expect(res.stdout).toMatch(/^Report: \S+report\.html$/m);
    },
    TIMEOUT,
  );
});
