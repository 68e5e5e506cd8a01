import { formatDuration } from '../duration.js';
import type { PipelineResult } from '../pipeline.js';

/** `--json`: the PipelineResult with the error as its message. */
export function formatJsonResult(result: PipelineResult, failure: string | undefined): string {
  const json: Record<string, unknown> = { ...result };
  delete json.error;
  if (failure) json.error = failure;
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** The human summary on stdout: one line per step, then the run's state and report. */
export function formatSummary(result: PipelineResult): string {
  const width = Math.max(...result.steps.map((s) => s.step.length), 4);
  const lines = result.steps.map((s) => {
    const time = s.status === 'skipped' ? '' : formatDuration(s.durationMs);
    const detail = (s.detail ?? '').split('\n')[0];
    return `${s.step.padEnd(width)}  ${s.status.padEnd(7)}  ${time.padEnd(9)}  ${detail}`.trimEnd();
  });
  if (result.deployment) lines.push(`Deployment: ${result.deployment.name}${result.deployment.url ? ` (${result.deployment.url})` : ''}`);
  if (result.packaged?.image) lines.push(`Image: ${result.packaged.image}${result.packaged.digest ? `@${result.packaged.digest}` : ''}`);
  if (result.run) {
    lines.push(`${capitalised(result.runNoun)} ${result.run.id}: ${result.run.state}${result.run.created ? '' : ' (started earlier with the same idempotency key)'}`);
    lines.push(`Report: ${result.run.url}`);
  }
  if (result.stopped) lines.push(`Stop: ${result.stopped.detail}`);
  if (result.plan) {
    lines.push('', 'Plan (nothing was changed):', ...result.plan.actions.map((a, i) => `  ${i + 1}. ${a}`));
    for (const r of result.plan.requests) {
      lines.push('', `  ${r.method} ${r.url}`, ...(r.body === undefined ? [] : JSON.stringify(r.body, null, 2).split('\n').map((l) => `    ${l}`)));
    }
  }
  return `${lines.join('\n')}\n`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
