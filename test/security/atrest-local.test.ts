import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigSync } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { MemoryLogger } from '../../src/logger.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { runConfig } from '../../src/run-config.js';
import { copyExample } from '../local/example.js';
import { ciContext } from '../helpers/services.js';
import { SECRET, SECRET_FORMS } from './atrest-stand-ins.js';

// Secrets at rest, LocalOrchestrator: a `${VAR}` run parameter must not land in clear in
// the state folder (run.json, spec.json, log.txt, report.html — the artifact the README
// says to upload), yet the flow must still receive it.


/** The quickstart with a flow of its own that writes what it received to received.json. */
function project(runBlock: string): string {
  const dir = copyExample('quickstart');
  writeFileSync(
    path.join(dir, 'secret_flow.py'),
    'import json\ndef main(**params):\n    with open("received.json", "w") as f:\n        json.dump(params, f)\n',
  );
  writeFileSync(
    path.join(dir, 'secret.yaml'),
    `orchestrator:
  config: {}
  deployment:
    name: secrets
    type: local
    package: {flow_entrypoint: secret_flow.py:main, lolpop_install_location: ""}
    run:
${runBlock}
`,
  );
  return dir;
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}


describe('secrets at rest: the local orchestrator', () => {
  it('what the flow itself prints of a secret is redacted in log.txt and report.html, across output chunks', async () => {
    const dir = project('      parameters: {api_key: "${ATREST_API_KEY}"}\n      secret_parameters: [api_key]');
    // Printed whole, then in two writes flushed apart (two chunks on the pipe, one line in log.txt).
    writeFileSync(
      path.join(dir, 'secret_flow.py'),
      'import sys, time\ndef main(**params):\n    k = params["api_key"]\n    print("key:", k, flush=True)\n' +
        '    sys.stdout.write("half " + k[:5]); sys.stdout.flush(); time.sleep(0.2)\n    print(k[5:] + " end", flush=True)\n',
    );
    const printed = 'sk-live-0123456789abcdef';
    const env = { ...process.env, ATREST_API_KEY: printed };
    const config = loadConfigSync(path.join(dir, 'secret.yaml'), {}, orchestratorLookup, env);
    const result = await runConfig(config, ['deploy', 'run'], { logger: new MemoryLogger(), env, ci: ciContext(), workdir: dir });
    expect(result.run?.state).toBe('COMPLETED');
    const stored = filesUnder(path.join(dir, '.lolpop-deploy')).filter((f) => /(log\.txt|report\.html)$/.test(f));
    expect(stored).toHaveLength(2);
    for (const file of stored) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).toContain('key: ***');
      expect(text, file).toContain('half *** end');
      expect(text, file).not.toContain(printed);
    }
  }, 30_000);

  it('a secret parameter reaches the flow through its environment; run.json, spec.json, log.txt and report.html hold *** for it', async () => {
    const dir = project('      parameters: {api_key: "${ATREST_API_KEY}", team: ml}\n      secret_parameters: [api_key]');
    const env = { ...process.env, ATREST_API_KEY: SECRET };
    const config = loadConfigSync(path.join(dir, 'secret.yaml'), {}, orchestratorLookup, env);
    const logger = new MemoryLogger();
    const result = await runConfig(config, ['deploy', 'run'], { logger, env, ci: ciContext(), workdir: dir });
    expect(result.error).toBeUndefined();
    expect(result.run?.state).toBe('COMPLETED');

    expect(JSON.parse(readFileSync(path.join(dir, 'received.json'), 'utf8'))).toEqual({ api_key: SECRET, team: 'ml' });
    const stored = filesUnder(path.join(dir, '.lolpop-deploy'));
    expect(stored.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['run.json', 'spec.json', 'log.txt', 'report.html']));
    for (const file of stored) {
      const text = readFileSync(file, 'utf8');
      for (const form of SECRET_FORMS) expect(text, file).not.toContain(form);
    }
    const run = JSON.parse(readFileSync(stored.find((f) => f.endsWith('run.json'))!, 'utf8'));
    expect(run.parameters).toEqual({ api_key: '***', team: 'ml' });
    expect(logger.rawLines.join('\n')).not.toContain('Zürich');
  }, 30_000);

  it('a parameter holding a secret ${VAR} that is not in secret_parameters is refused at load time, naming it', () => {
    const dir = project('      parameters: {api_key: "Bearer ${ATREST_API_KEY}", team: ml}');
    const load = () => loadConfigSync(path.join(dir, 'secret.yaml'), {}, orchestratorLookup, { ...process.env, ATREST_API_KEY: SECRET });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/secret\.yaml:\d+:\d+: run\.parameters\.api_key: holds the value of a secret \$\{VAR\}.*list 'api_key' in run\.secret_parameters/);
  });

  it('secret_parameters with an orchestrator module of the user is refused: it would get them as plain parameters', () => {
    const dir = project('      parameters: {api_key: "${ATREST_API_KEY}"}\n      secret_parameters: [api_key]');
    const load = () =>
      loadConfigSync(path.join(dir, 'secret.yaml'), { orchestrator: { name: './my_orchestrator.mjs', label: 'flag --orchestrator' } }, orchestratorLookup, {
        ...process.env,
        ATREST_API_KEY: SECRET,
      });
    expect(load).toThrow(/run\.secret_parameters: \.\/my_orchestrator\.mjs is a module of yours/);
  });
});
