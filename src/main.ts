import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readCiContext } from './ci-context.js';
import { loadConfig } from './config/load.js';
import { CoreLogger } from './core-logger.js';
import { describeError, UserError } from './errors.js';
import { ProcessExec } from './exec.js';
import { readInputs } from './inputs.js';
import { createOrchestrator, orchestratorLookup } from './orchestrators/registry.js';
import { setOutputs } from './outputs.js';
import { runPipeline, type PipelineResult } from './pipeline.js';
import { previewPlan } from './preview.js';
import { renderReport } from './report/render.js';

/** The action: inputs → config → pipeline → outputs, summary; the only setFailed. */
export async function run(): Promise<void> {
  const logger = new CoreLogger();
  const ci = readCiContext(process.env, readIfExists);
  let result: PipelineResult | undefined;
  let failure: unknown;
  let summaryWanted = true;
  const notes: string[] = [];
  try {
    const settings = readInputs();
    summaryWanted = settings.summary;
    const plan = previewPlan(settings, ci);
    if (plan.note) notes.push(plan.note);
    const config = loadConfig(settings.configFile, plan.overrides, orchestratorLookup, process.env);
    for (const secret of config.secrets) logger.addSecret(secret);
    const orchestrator = await createOrchestrator(config.orchestrator, config.orchestratorConfig, {
      logger,
      exec: new ProcessExec(),
      fetch: globalThis.fetch,
      env: process.env,
      ci,
      workdir: path.dirname(config.file),
      configFile: config.file,
      registry: settings.registry,
    });
    result = await runPipeline(config, plan.steps, orchestrator, logger);
    failure = result.error;
  } catch (error) {
    failure = error;
  }
  setOutputs(result);
  if (summaryWanted) {
    try {
      await core.summary.addRaw(renderReport({ result, error: failure, ci, notes })).write();
    } catch (error) {
      core.warning(`Failed to write the job summary: ${describeError(error)}`);
    }
  }
  if (failure) {
    // A UserError says all there is to say; anything else is a bug worth its stack.
    if (!(failure instanceof UserError)) core.debug(failure instanceof Error ? (failure.stack ?? '') : String(failure));
    core.setFailed(describeError(failure));
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
