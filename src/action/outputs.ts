import * as core from '@actions/core';
import { fileURLToPath } from 'node:url';
import { describeError } from '../errors.js';
import type { PipelineResult } from '../pipeline.js';
import type { WorkflowOutcome } from '../run-many.js';
import { isBrowsable } from './report/render.js';

/**
 * A URL output only when someone can open it: an http(s) URL, not a file:// URL of the
 * runner's disk (that one is `run-report`) nor anything else, which is left out, saying so.
 */
function browsable(url: string | undefined): string | undefined {
  if (!url || isBrowsable(url)) return url || undefined;
  if (!url.startsWith('file://')) core.debug(`URL output left out: ${JSON.stringify(url)} is not an http(s) URL`);
  return undefined;
}

/** The action's outputs (action.yml), set for whatever finished, even on failure. */
export function setOutputs(result: PipelineResult | undefined, redact: (value: string) => string): void {
  const outputs: Record<string, string | undefined> = {
    image: result?.packaged?.image,
    digest: result?.packaged?.digest,
    'deployment-id': result?.deployment?.id,
    'deployment-name': result?.deployment?.name ?? result?.deploymentName,
    'deployment-url': browsable(result?.deployment?.url),
    // Generic names for every orchestrator; the flow-run-* ones are kept as aliases.
    'run-id': result?.run?.id,
    'run-url': browsable(result?.run?.url),
    'run-state': result?.run?.state,
    'flow-run-id': result?.run?.id,
    'flow-run-url': browsable(result?.run?.url),
    'flow-run-state': result?.run?.state,
    // The local orchestrator's HTML report exists only on the runner: its path, for actions/upload-artifact.
    'run-report': result?.run?.url.startsWith('file://') ? fileURLToPath(result.run.url) : undefined,
  };
  for (const [name, value] of Object.entries(outputs)) {
    if (value !== undefined) core.setOutput(name, redact(value));
  }
}

/** The `results` output: one entry per workflow, by deployment name (else config file). */
export function setResultsOutput(outcomes: readonly WorkflowOutcome[], redact: (value: string) => string, githubDeploymentIds: ReadonlyMap<string, number> = new Map()): void {
  const results: Record<string, Record<string, string | undefined>> = {};
  for (const o of outcomes) {
    const r = o.result;
    results[o.name ?? o.file] = {
      config: o.file,
      status: o.status,
      skipped: o.skipped,
      'deployment-name': r?.deployment?.name ?? r?.deploymentName,
      'deployment-url': browsable(r?.deployment?.url),
      'run-id': r?.run?.id,
      'run-url': browsable(r?.run?.url),
      'run-state': r?.run?.state,
      image: r?.packaged?.image,
      digest: r?.packaged?.digest,
      error: o.error ? describeError(o.error) : undefined,
      'github-deployment-id': o.name && githubDeploymentIds.has(o.name) ? String(githubDeploymentIds.get(o.name)) : undefined,
    };
  }
  core.setOutput('results', redact(JSON.stringify(results)));
}

/** The GitHub deployment's id (the `environment` input), of the one workflow. */
export function setGitHubDeploymentId(id: number | undefined): void {
  if (id !== undefined) core.setOutput('github-deployment-id', String(id));
}

/** The sticky PR comment's html_url, once it is written. */
export function setCommentUrl(url: string): void {
  core.setOutput('comment-url', url);
}
