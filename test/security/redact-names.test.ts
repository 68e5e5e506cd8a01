import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { MemoryLogger } from '../../src/logger.js';

const CONFIG = `orchestrator:
  deployment:
    name: names
    package:
      lolpop_class: Runner
    run:
      parameters:
        team: \${TEAM}
        bucket: \${DATA_BUCKET}
        token: \${HF_TOKEN}
        marked: \${PLAIN_LOOKING}
        short: \${DB_PASSWORD}
`;

/** `lolpop-deploy plan` (offline, local orchestrator) of a config referencing those variables. */
async function plan(env: NodeJS.ProcessEnv) {
  const dir = mkdtempSync(path.join(tmpdir(), 'lolpop-redact-names-'));
  writeFileSync(path.join(dir, 'lolpop.yaml'), CONFIG);
  let stdout = '';
  const logger = new MemoryLogger();
  const code = await main(['plan', '-c', 'lolpop.yaml'], { stdout: (t) => (stdout += t), stderr: () => undefined, env, cwd: dir, logger });
  return { code, stdout, log: logger.lines };
}

const ENV = { TEAM: 'ml', DATA_BUCKET: 's3://models', HF_TOKEN: 'hf_0123456789', PLAIN_LOOKING: 'not-by-its-name', DB_PASSWORD: 'pw' };

// Every ${VAR} that was not GITHUB_/RUNNER_/CI_ counted as a secret: a team name "ml" was
// masked everywhere, corrupting YAML and HTML. Now a variable is secret by its name, or
// when the user lists it in LOLPOP_DEPLOY_SECRETS.
describe('which ${VAR} values are secrets', () => {
  it('a value that is not secret (a team name, a bucket) is printed as it is', async () => {
    const { code, stdout } = await plan(ENV);
    expect(code).toBe(0);
    expect(stdout).toContain('"team":"ml"');
    expect(stdout).toContain('"bucket":"s3://models"');
  });

  it('a secret-named variable is masked; one listed in LOLPOP_DEPLOY_SECRETS too', async () => {
    const { stdout } = await plan({ ...ENV, LOLPOP_DEPLOY_SECRETS: 'OTHER, PLAIN_LOOKING' });
    expect(stdout).toContain('"token":"***"');
    expect(stdout).toContain('"marked":"***"');
    expect((await plan(ENV)).stdout).toContain('"marked":"not-by-its-name"');
  });

  it('a secret shorter than 4 characters is not masked, and a warning says so', async () => {
    const { stdout, log } = await plan(ENV);
    expect(stdout).toContain('"short":"pw"');
    expect(log).toContain('warning: ${DB_PASSWORD} is secret but only 2 characters long: values shorter than 4 are never masked');
  });
});
