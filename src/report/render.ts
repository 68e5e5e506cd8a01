import type { CiContext } from '../ci-context.js';
import { formatDuration } from '../duration.js';
import { describeError } from '../errors.js';
import type { PipelineResult, StepReport } from '../pipeline.js';

/** GitHub drops a job summary over 1 MiB; stay well under it. */
export const SUMMARY_LIMIT = 1024 * 1024 - 4096;
/** GitHub refuses a comment body over 65,536 characters. */
export const COMMENT_LIMIT = 65_536 - 1024;

export interface ReportInput {
  result?: PipelineResult;
  /** A failure before the pipeline started (bad config, bad input). */
  error?: unknown;
  ci: CiContext;
  /** Extra lines (notices) shown under the table. */
  notes?: string[];
}

const ICON: Record<StepReport['status'], string> = { success: '✅', failed: '❌', skipped: '⏭️' };

/**
 * The report as Markdown: the job summary and the PR comment both come from
 * here, so they never disagree. Pure: no I/O, no clock.
 */
export function renderReport(input: ReportInput, limit = SUMMARY_LIMIT): string {
  const { result, ci } = input;
  const error = result?.error ?? input.error;
  const lines: string[] = [];
  const title = result ? `lolpop-deploy: ${result.deploymentName}` : 'lolpop-deploy';
  lines.push(`### ${error ? '❌' : '✅'} ${escapeMd(title)}`, '');

  if (result) {
    lines.push('| step | status | time | detail |', '| --- | --- | --- | --- |');
    for (const s of result.steps) {
      lines.push(`| ${s.step} | ${ICON[s.status]} ${s.status} | ${s.status === 'skipped' ? '' : formatDuration(s.durationMs)} | ${cell(s.detail ?? '')} |`);
    }
    lines.push('');
    const facts: Array<[string, string]> = [['orchestrator', result.orchestrator]];
    if (result.packaged?.image) facts.push(['image', `\`${result.packaged.image}\``]);
    if (result.packaged?.digest) facts.push(['digest', `\`${result.packaged.digest}\``]);
    if (result.deployment) facts.push(['deployment', link(result.deployment.name, result.deployment.url)]);
    if (result.run) {
      facts.push(['flow run', link(result.run.id, result.run.url)]);
      facts.push(['state', `**${result.run.state}**`]);
    }
    if (result.stopped) facts.push(['stopped', cell(result.stopped.detail)]);
    if (ci.sha) facts.push(['commit', ci.repository ? `[\`${ci.shortSha}\`](${ci.serverUrl}/${ci.repository}/commit/${ci.sha})` : `\`${ci.shortSha}\``]);
    for (const [k, v] of facts) lines.push(`- **${k}**: ${v}`);
  }
  if (error) lines.push('', `**Error:** ${cell(describeError(error))}`);
  for (const note of input.notes ?? []) lines.push('', `> ${cell(note)}`);
  return truncate(lines.join('\n') + '\n', limit);
}

function link(text: string, url?: string): string {
  return url ? `[${escapeMd(text)}](${url})` : `\`${text}\``;
}

/** Table cells and list items must stay on one line and not break the table. */
function cell(text: string): string {
  return escapeMd(text).replace(/\r?\n/g, '<br>').replace(/\|/g, '\\|');
}

function escapeMd(text: string): string {
  return text.replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'));
}

/** Cuts at a line boundary and says so, so a huge error never loses the whole report. */
export function truncate(markdown: string, limit: number): string {
  if (Buffer.byteLength(markdown, 'utf8') <= limit) return markdown;
  const marker = '\n\n_(report truncated)_\n';
  let cut = markdown.slice(0, limit - marker.length);
  while (Buffer.byteLength(cut, 'utf8') > limit - marker.length) cut = cut.slice(0, -1024);
  return cut.slice(0, cut.lastIndexOf('\n')) + marker;
}
