import * as core from '@actions/core';
import type { PipelineResult } from './pipeline.js';

/** The action's outputs (action.yml), set for whatever finished, even on failure. */
export function setOutputs(result: PipelineResult | undefined): void {
  const outputs: Record<string, string | undefined> = {
    image: result?.packaged?.image,
    digest: result?.packaged?.digest,
    'deployment-id': result?.deployment?.id,
    'deployment-name': result?.deployment?.name ?? result?.deploymentName,
    'deployment-url': result?.deployment?.url,
    'flow-run-id': result?.run?.id,
    'flow-run-url': result?.run?.url,
    'flow-run-state': result?.run?.state,
  };
  for (const [name, value] of Object.entries(outputs)) {
    if (value !== undefined) core.setOutput(name, value);
  }
}

/** The sticky PR comment's html_url, once it is written. */
export function setCommentUrl(url: string): void {
  core.setOutput('comment-url', url);
}
