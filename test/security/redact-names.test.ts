import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MemoryLogger } from '../../src/logger.js';

/** A config whose run parameters reference `vars` (name: variable), plus `extra` run keys. */
function config(vars: Record<string, string>, extra = ''): string {
  const params = Object.entries(vars).map(([k, v]) => `        ${k}: \${${v}}\n`).join('');
  return `orchestrator:
  deployment:
    name: names
    package:
      lolpop_class: Runner
    run:
      parameters:
${params}${extra}`;
}

/** `lolpop-deploy plan` (offline, local orchestrator) of that config. */
async function plan(env: NodeJS.ProcessEnv, text: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lolpop-redact-names-'));
  writeFileSync(path.join(dir, 'lolpop.yaml'), text);
  let stdout = '';
  let stderr = '';
  const logger = new MemoryLogger();
  const code = await main(['plan', '-c', 'lolpop.yaml'], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, cwd: dir, logger });
  return { code, stdout, stderr, log: logger.lines, logger };
}

const ENV = { TEAM: 'ml', DATA_BUCKET: 's3://models', HF_TOKEN: 'hf_0123456789', PLAIN_LOOKING: 'not-by-its-name', DB_PASSWORD: 'q7z' };

// Every ${VAR} that was not GITHUB_/RUNNER_/CI_ counted as a secret: a team name "ml" was
// masked everywhere, corrupting YAML and HTML. Now a variable is secret by its name, or
// when the user lists it in LOLPOP_DEPLOY_SECRETS. A secret in a plain run parameter is
// refused at load (it would be stored in clear: secret_parameters), so which values are
// secret shows as which parameters the load accepts.
describe('which ${VAR} values are secrets', () => {
  it('a value that is not secret (a team name, a bucket) is printed as it is', async () => {
    const { code, stdout } = await plan(ENV, config({ team: 'TEAM', bucket: 'DATA_BUCKET', marked: 'PLAIN_LOOKING' }));
    expect(code).toBe(0);
    expect(stdout).toContain('"team":"ml"');
    expect(stdout).toContain('"bucket":"s3://models"');
    expect(stdout).toContain('"marked":"not-by-its-name"');
  });

  it('a secret-named variable is a secret; one listed in LOLPOP_DEPLOY_SECRETS too', async () => {
    const named = await plan(ENV, config({ team: 'TEAM', token: 'HF_TOKEN' }));
    expect(named.code).not.toBe(0);
    expect(named.stderr).toContain("run.parameters.token: holds the value of a secret ${VAR}");
    const marked = await plan({ ...ENV, LOLPOP_DEPLOY_SECRETS: 'OTHER, PLAIN_LOOKING' }, config({ marked: 'PLAIN_LOOKING' }));
    expect(marked.code).not.toBe(0);
    expect(marked.stderr).toContain("run.parameters.marked: holds the value of a secret ${VAR}");
    // Named as secret parameters, both are masked wherever the plan shows them.
    const both = await plan({ ...ENV, LOLPOP_DEPLOY_SECRETS: 'PLAIN_LOOKING' }, config({ token: 'HF_TOKEN', marked: 'PLAIN_LOOKING' }, '      secret_parameters: [token, marked]\n'));
    expect(both.code).toBe(0);
    expect(both.stdout).not.toContain('hf_0123456789');
    expect(both.stdout).not.toContain('not-by-its-name');
  });

  it('a secret shorter than 4 characters is not masked, and a warning says so', async () => {
    // In a value that is not a parameter (a description), so the load accepts it.
    const text = config({ team: 'TEAM' }).replace('    run:\n', '    deploy:\n      description: "db ${DB_PASSWORD}"\n    run:\n');
    const { code, log, logger } = await plan(ENV, text);
    expect(log).toContain('warning: ${DB_PASSWORD} is secret but only 3 characters long: values shorter than 4 are never masked');
    expect(code).toBe(0);
    // Registered, but never masked: masking a 3-character value would corrupt every line holding it.
    expect(logger.redact('db q7z')).toBe('db q7z');
  });
});
