import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { orchestratorLookup } from '../../src/orchestrators/registry.js';
import { tempDir } from '../helpers/services.js';

// A user's module in plain JavaScript (no zod): its config schema and its own run kwarg
// `queue`, each a few lines with a zod-style safeParse.
const MODULE = `
const fail = (path, message) => ({ success: false, error: { issues: [{ path, message }] } });
export default {
  name: 'queue-orchestrator',
  configSchema: { safeParse: (v) => (typeof v?.host === 'string' ? { success: true, data: { port: 80, ...v } } : fail(['host'], 'required: the host to send jobs to')) },
  kwargs: {
    run: {
      safeParse: (v) => {
        const unknown = Object.keys(v).filter((k) => k !== 'queue');
        if (unknown.length > 0) return fail([unknown[0]], 'not a key of queue-orchestrator');
        return typeof v.queue === 'string' ? { success: true, data: { queue: v.queue } } : fail(['queue'], 'required: the queue a run goes to');
      },
    },
  },
  create: () => ({}),
};
`;

async function load(yaml: string, module = MODULE): Promise<LoadedConfig> {
  const dir = tempDir('module-plugin');
  writeFileSync(path.join(dir, 'queue.mjs'), module);
  const file = path.join(dir, 'lolpop.yaml');
  writeFileSync(file, yaml);
  return loadConfig(file, { orchestrator: { name: './queue.mjs', label: '--orchestrator' } }, orchestratorLookup, {}, dir, { unknownOrchestrator: 'fail' });
}

async function errorOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as Error).message.replace(/^.*lolpop\.yaml:/, 'lolpop.yaml:');
}

const CONFIG = `orchestrator:
  config:
    host: jobs.internal
  deployment:
    name: nightly
    run:
      queue: gpu
      parameters: {n: 1}
`;

describe("a user's orchestrator module checks its own part of the config, as a built-in does", () => {
  it("its run kwarg reaches the deployment next to the common ones; its config is parsed once, by its schema", async () => {
    const config = await load(CONFIG);
    expect(config.orchestrator).toBe('./queue.mjs');
    expect(config.orchestratorConfig).toEqual({ host: 'jobs.internal', port: 80 });
    expect(config.deployment.run).toMatchObject({ queue: 'gpu', parameters: { n: 1 }, wait: false });
  });

  it('its refusals name the file, line, key and what the module expected', async () => {
    expect(await errorOf(load(CONFIG.replace('queue: gpu', 'queue: 7')))).toBe(
      'lolpop.yaml:7:7: orchestrator.deployment.run.queue: required: the queue a run goes to (checked by ./queue.mjs)',
    );
    expect(await errorOf(load(CONFIG.replace('host: jobs.internal', 'hots: jobs.internal')))).toMatch(
      /^lolpop\.yaml:\d+:\d+: orchestrator\.config\.host: required: the host to send jobs to \(checked as \.\/queue\.mjs's config, chosen by --orchestrator\)$/,
    );
  });

  it('a common key is still checked by the common schema', async () => {
    expect(await errorOf(load(CONFIG.replace('parameters: {n: 1}', 'parameters: [1]')))).toMatch(/^lolpop\.yaml:8:7: orchestrator\.deployment\.run\.parameters: /);
  });

  it('a section the module requires a key in may not be left out: it says what is missing', async () => {
    expect(await errorOf(load(CONFIG.replace(/ {4}run:\n.*\n.*\n/, '')))).toMatch(/orchestrator\.deployment\.run\.queue: required: the queue a run goes to/);
  });

  it('a module without kwargs gets the common ones: its unknown key is refused, not ignored', async () => {
    const plain = MODULE.replace(/kwargs: \{[\s\S]*?\n {2}\},\n/, '');
    expect(await errorOf(load(CONFIG, plain))).toMatch(/^lolpop\.yaml:7:7: orchestrator\.deployment\.run\.queue: /);
  });

  it('a module whose kwargs are not schemas is refused by name', async () => {
    const broken = MODULE.replace("kwargs: {\n    run: {", "kwargs: {\n    deploi: {},\n    run: {");
    expect(await errorOf(load(CONFIG, broken))).toMatch(/orchestrator module '\.\/queue\.mjs' must export .* kwargs\.\{package,deploy,run,stop\}/);
  });
});
