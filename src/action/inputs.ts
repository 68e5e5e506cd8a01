import * as core from '@actions/core';
import path from 'node:path';
import { findConfigFiles } from '../config/find.js';
import { KWARGS_EXAMPLES, parseJsonObject } from '../kwargs-json.js';
import { ConfigError } from '../errors.js';
import type { ConfigOverrides } from '../config/load.js';
import { OVERRIDE_SECTIONS, type StepSection } from '../config/schema.js';
import type { CommentMode } from './github/pr-comment.js';
import { parseSteps, type StepName } from '../steps.js';

export type { CommentMode };

/** Everything the action reads from its inputs, typed; the only caller of core.getInput. */
export interface ActionSettings {
  /** One workflow per file: the config input's paths and globs, resolved (at least one). */
  configFiles: string[];
  /** The config input as written: the key of the one comment that lists several workflows. */
  configInput: string;
  /** Several workflows: how many run at once, and whether the first failure stops the rest. */
  maxParallel: number;
  failFast: boolean;
  workingDirectory: string;
  steps: StepName[];
  overrides: ConfigOverrides;
  preview: boolean;
  /** The branch that deploys production names with preview: true; unset = the repository's default branch. */
  productionBranch?: string;
  comment: CommentMode;
  summary: boolean;
  githubToken: string;
  registry?: { username: string; password: string };
  /** Cancel the runs this step started when the job is cancelled, times out or the step is killed. */
  cancelOnJobCancel: boolean;
}

export function readInputs(): ActionSettings {
  const workingDirectory = path.resolve(core.getInput('working-directory') || '.');
  const configInput = core.getInput('config') || 'lolpop.yaml';
  const kwargs: NonNullable<ConfigOverrides['kwargs']> = {};
  for (const [section, input] of Object.entries(OVERRIDE_SECTIONS) as Array<[StepSection, string]>) {
    const text = core.getInput(input);
    if (text.trim()) kwargs[section] = parseJsonObject(text, `input ${input}`, KWARGS_EXAMPLES[section]);
  }
  // Run settings, over the config's run block (run-kwargs are the run's parameters).
  const runSettings: Record<string, unknown> = {};
  const wait = core.getInput('wait');
  if (wait) runSettings.wait = parseBoolean('wait', wait);
  const waitTimeout = core.getInput('wait-timeout');
  if (waitTimeout) runSettings.wait_timeout = waitTimeout;
  const orchestrator = core.getInput('orchestrator');

  const username = core.getInput('registry-username');
  const password = core.getInput('registry-password');
  if (Boolean(username) !== Boolean(password)) {
    throw new ConfigError('inputs registry-username and registry-password: give both or neither');
  }
  const comment = (core.getInput('comment') || 'auto') as CommentMode;
  if (!['auto', 'always', 'never'].includes(comment)) {
    throw new ConfigError(`input comment: '${comment}' is not one of auto, always, never`);
  }
  const githubToken = core.getInput('github-token');
  return {
    configFiles: findConfigFiles([configInput], workingDirectory, 'input config'),
    configInput,
    maxParallel: parsePositiveInteger('max-parallel', core.getInput('max-parallel') || '4'),
    failFast: parseBoolean('fail-fast', core.getInput('fail-fast') || 'false'),
    workingDirectory,
    steps: parseSteps(core.getInput('steps') || 'package,deploy,run', 'input steps'),
    overrides: {
      deploymentName: core.getInput('deployment-name') || undefined,
      deploymentType: core.getInput('deployment-type') || undefined,
      kwargs,
      ...(Object.keys(runSettings).length > 0 ? { runSettings } : {}),
      ...(orchestrator ? { orchestrator: { name: orchestrator, label: 'input orchestrator' } } : {}),
    },
    preview: parseBoolean('preview', core.getInput('preview') || 'false'),
    productionBranch: core.getInput('production-branch') || undefined,
    comment,
    summary: parseBoolean('summary', core.getInput('summary') || 'true'),
    githubToken,
    registry: username && password ? { username, password } : undefined,
    cancelOnJobCancel: parseBoolean('cancel-on-job-cancel', core.getInput('cancel-on-job-cancel') || 'true'),
  };
}

function parseBoolean(input: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(t)) return true;
  if (['false', 'no', '0', 'off', ''].includes(t)) return false;
  throw new ConfigError(`input ${input}: '${text}' is not a boolean; expected true or false`);
}

function parsePositiveInteger(input: string, text: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new ConfigError(`input ${input}: '${text}' is not a whole number from 1 to 64`);
  return n;
}
