import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CiContext } from '../../ci-context.js';
import { formatDuration } from '../../duration.js';
import { describeError } from '../../errors.js';
import type { PlanResult } from '../../orchestrators/orchestrator.js';
import type { PipelineResult, StepReport } from '../../pipeline.js';
import type { WorkflowOutcome } from '../../run-many.js';
import type { Preview } from '../preview.js';
import { cell, code, codeBlock, link as mdLink, text } from './markdown.js';

/** GitHub drops a job summary over 1 MiB; stay well under it. */
export const SUMMARY_LIMIT = 1024 * 1024 - 4096;
/** GitHub refuses a comment body over 65,536 characters; room is left for the marker. */
export const COMMENT_LIMIT = 65_536 - 1024;

export interface ReportInput {
  result?: PipelineResult;
  /** A failure before the pipeline started (bad config, bad input). */
  error?: unknown;
  ci: CiContext;
  /** Extra lines shown under the facts. */
  notes?: Note[];
  /** Set when this run deployed, or stopped, the preview of a pull request or a branch. */
  preview?: Preview;
  /** The secrets' redaction, applied to each value before it is escaped (see `escaping`). */
  redact?: (value: string) => string;
}

/**
 * A line under the facts: plain text (shown literally, whatever it holds) or Markdown this
 * project built itself from escaped parts (`linkNote`).
 */
export type Note = string | { markdown: string };

/** A note with a link: `label` linked to `url` (if http(s)), then `after`, Markdown written by this project. */
export function linkNote(label: string, url: string, after: string): Note {
  return { markdown: `${escaping().link(label, url)} ${after}` };
}

const ICON: Record<StepReport['status'], string> = { success: '✅', failed: '❌', skipped: '⏭️', running: '⏳', pending: '🕒' };
/** A step's detail stays one readable table cell. */
const DETAIL_LIMIT = 300;

/**
 * The report as Markdown: the job summary and the PR comment both come from
 * here, so they never disagree. Pure: no I/O, no clock. `limit` is in UTF-8
 * bytes, which is never fewer than characters, so it bounds both.
 */
export function renderReport(input: ReportInput, limit = SUMMARY_LIMIT): string {
  const { result, ci, preview } = input;
  const md = escaping(input.redact);
  const error = result?.error ?? input.error;
  const stopped = result?.stopped !== undefined && !error;
  const name = result?.deploymentName;
  const lines: string[] = [];
  // A progress report (written while the steps run) says so in its title.
  const running = result?.steps.find((s) => s.status === 'running');
  const planned = result?.plan !== undefined && !error;
  const icon = error ? '❌' : running ? '⏳' : stopped ? '⏹️' : planned ? '📋' : '✅';
  const state = running ? ` (${running.step} in progress)` : stopped ? ' stopped' : planned ? ' (plan: nothing was changed)' : '';
  const title = name ? `lolpop-deploy: ${name}${state}` : 'lolpop-deploy';
  lines.push(`### ${icon} ${md.text(title)}`, '');
  const context = contextLine(ci, preview, md);
  if (context) lines.push(context, '');

  if (result && result.steps.length > 0) {
    lines.push('| step | status | time | detail |', '| --- | --- | --- | --- |');
    for (const s of result.steps) {
      const time = s.status === 'success' || s.status === 'failed' ? formatDuration(s.durationMs) : '';
      lines.push(row([md.text(s.step), `${ICON[s.status]} ${s.status}`, time, md.text(s.detail ?? '', DETAIL_LIMIT)]));
    }
    lines.push('');
  }
  if (result) {
    for (const [k, v] of facts(result, ci, md)) lines.push(`- **${k}**: ${v}`);
    if (result.plan) lines.push('', ...planSection(result.plan, Math.floor(limit / 2), md));
  }
  // The error may be a whole log: clipped so that the notes and the end of the report survive.
  const paragraph = (text: string) => lines.push(...(lines.at(-1) === '' ? [] : ['']), text);
  if (error) paragraph(`**Error:** ${md.text(describeError(error), Math.floor(limit / 4))}`);
  for (const note of input.notes ?? []) paragraph(`> ${md.note(note)}`);
  return truncate(lines.join('\n') + '\n', limit);
}

/** The PR comment's body (the marker is added by the sticky comment): the same report, under GitHub's limit. */
export function renderComment(input: ReportInput): string {
  return renderReport(input, COMMENT_LIMIT);
}

export interface WorkflowsReportInput {
  outcomes: readonly WorkflowOutcome[];
  ci: CiContext;
  preview?: Preview;
  notes?: Note[];
  /** Config files are shown relative to it. */
  workdir: string;
  /** A progress report, written before the workflows start. */
  inProgress?: boolean;
  /** As in ReportInput. */
  redact?: (value: string) => string;
}

const OUTCOME_ICON: Record<WorkflowOutcome['status'], string> = { succeeded: '✅', failed: '❌', 'not-started': '🕒' };

/**
 * Several workflows of one step: a row each (config, deployment, run, state, time),
 * their errors, then each workflow's own report folded, within `limit` bytes.
 */
export function renderWorkflows(input: WorkflowsReportInput, limit = SUMMARY_LIMIT): string {
  const { outcomes, ci } = input;
  const md = escaping(input.redact);
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  const done = outcomes.filter((o) => o.status !== 'not-started').length;
  const running = input.inProgress === true;
  const icon = failed > 0 ? '❌' : running ? '⏳' : done < outcomes.length ? '⏭️' : '✅';
  const state = running ? ' (in progress)' : failed > 0 ? `, ${failed} failed` : '';
  const lines = [`### ${icon} lolpop-deploy: ${outcomes.length} workflows${state}`, ''];
  const context = contextLine(ci, input.preview, md);
  if (context) lines.push(context, '');
  lines.push('| workflow | config | status | deployment | run | state | time |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const o of outcomes) {
    const r = o.result;
    const status = o.status === 'not-started' ? (running ? 'pending' : 'not started') : o.status;
    const time = r ? formatDuration(r.steps.reduce((sum, step) => sum + step.durationMs, 0)) : '';
    const config = path.relative(input.workdir, o.file) || o.file;
    lines.push(
      row([
        md.text(o.name ?? ''),
        md.code(config),
        `${OUTCOME_ICON[o.status]} ${status}`,
        r?.deployment ? md.link(r.deployment.name, r.deployment.url) : '',
        r?.run ? md.link(r.run.id, r.run.url) : '',
        r?.run ? `**${md.text(r.run.state)}**` : '',
        time,
      ]),
    );
  }
  const errors = outcomes.filter((o) => o.error);
  if (errors.length > 0) {
    lines.push('', '**Errors**', '');
    for (const o of errors) lines.push(`- **${md.text(o.name ?? path.relative(input.workdir, o.file))}**: ${md.text(describeError(o.error), 2000)}`);
  }
  for (const note of input.notes ?? []) lines.push('', `> ${md.note(note)}`);
  // Each workflow's own report, folded; the share of the limit keeps the table above intact.
  const share = Math.floor(limit / (2 * Math.max(1, outcomes.length)));
  for (const o of outcomes) {
    if (!o.result) continue;
    const own = renderReport({ result: o.result, ci: { ...ci, repository: '', runId: '' }, redact: input.redact }, share).replace(/^### .*\n\n/, '');
    lines.push('', `<details><summary>${md.text(o.name ?? o.file)}</summary>`, '', own.trimEnd(), '', '</details>');
  }
  return truncate(lines.join('\n') + '\n', limit);
}

function facts(result: PipelineResult, ci: CiContext, md: Escaping): Array<[string, string]> {
  const out: Array<[string, string]> = [['orchestrator', md.code(result.orchestrator)]];
  if (result.packaged) {
    const { files, changes, kept } = result.packaged;
    // Every file that appears in the working tree is named, with what happened to it.
    if (files.length > 0) out.push(['files written', files.map((f) => `${md.code(f)}${changes?.[f] ? ` (${md.text(changes[f])})` : ''}`).join(', ')]);
    if (kept?.length) out.push(['files kept', `${kept.map((f) => md.code(f)).join(', ')} (yours: no lolpop-deploy header; used as it is)`]);
  }
  if (result.packaged?.image) out.push(['image', md.code(result.packaged.image)]);
  if (result.packaged?.digest) out.push(['digest', md.code(result.packaged.digest)]);
  if (result.deployment) out.push(['deployment', md.link(result.deployment.name, result.deployment.url)]);
  if (result.run) {
    out.push([result.runNoun, md.link(result.run.id, result.run.url)]);
    const wait = result.steps.find((s) => s.step === 'wait')?.status;
    const state = `**${md.text(result.run.state)}**`;
    if (wait === 'success' || wait === 'failed') out.push(['final state', state]);
    else if (wait === 'running') out.push(['state', `${state} when started; waiting for the final state`]);
    else out.push(['state', `${state} (when started; \`wait: true\` waits for the final state)`]);
  }
  if (result.stopped) out.push(['stopped', md.text(result.stopped.detail)]);
  if (ci.sha) out.push(['commit', commitLink(ci, md)]);
  return out;
}

/** What would happen, in order, and the requests it would send (folded: they can be long). */
function planSection(plan: PlanResult, limit: number, md: Escaping): string[] {
  const lines = ['**Plan**: what package → deploy → run would do', '', ...plan.actions.map((a) => `1. ${md.text(a)}`)];
  if (plan.requests.length > 0) {
    const json = plan.requests.map((r) => `${r.method} ${r.url}${r.body === undefined ? '' : `\n${JSON.stringify(r.body, null, 2)}`}`).join('\n\n');
    lines.push('', `<details><summary>Requests that would be sent (${plan.requests.length})</summary>`, '', ...md.codeBlock(json, limit), '', '</details>');
  }
  return lines;
}

/** "Preview for pull request #7 · workflow run #12": where this report comes from. */
function contextLine(ci: CiContext, preview: ReportInput['preview'], md: Escaping): string {
  const parts: string[] = [];
  if (preview?.kind === 'pull_request') {
    const pr = ci.repository ? `[#${preview.pullRequest}](${ci.serverUrl}/${ci.repository}/pull/${preview.pullRequest})` : `#${preview.pullRequest}`;
    parts.push(preview.closed ? `Preview of pull request ${pr}, which was closed: what the preview deployed is stopped.` : `Preview of pull request ${pr}.`);
  } else if (preview?.kind === 'branch') {
    const branch = md.code(preview.branch);
    parts.push(preview.closed ? `Preview of branch ${branch}, which was deleted: what the preview deployed is stopped.` : `Preview of branch ${branch}.`);
  }
  if (ci.repository && ci.runId) {
    const attempt = ci.runAttempt && ci.runAttempt !== '1' ? ` (attempt ${ci.runAttempt})` : '';
    const label = `workflow run${ci.runNumber ? ` #${ci.runNumber}` : ''}${attempt}`;
    const url = `${ci.serverUrl}/${ci.repository}/actions/runs/${ci.runId}${attempt ? `/attempts/${ci.runAttempt}` : ''}`;
    parts.push(`Reported by [${label}](${url}).`);
  }
  return parts.join(' ');
}

/** The commit, linked on the repository's server; the sha comes from the event payload, so it is escaped like any text. */
function commitLink(ci: CiContext, md: Escaping): string {
  const url = `${ci.serverUrl}/${ci.repository}/commit/${encodeURIComponent(ci.sha)}`;
  return ci.repository && isBrowsable(url) ? `[${md.code(ci.shortSha)}](${url})` : md.code(ci.shortSha);
}

interface Escaping {
  /** Inline text, redacted, then clipped to `max` characters (saying how many were left out), then escaped. */
  text(value: string, max?: number): string;
  code(value: string): string;
  codeBlock(value: string, max: number): string[];
  /**
   * A link when the URL opens in a browser. A file:// URL (the local orchestrator's
   * report) exists only on the machine that ran it: shown as a path, not a dead link.
   * Any other URL is not linked at all: the label is shown as code.
   */
  link(label: string, url?: string): string;
  note(note: Note): string;
}

/**
 * The Markdown escapes (markdown.ts), each redacting its value first: escaped, a secret
 * is no longer its own text (`p@ss` is shown as `p@\u200dss`, `<` as `&lt;`), so a
 * redaction of the finished report would miss it.
 */
function escaping(redact: (value: string) => string = (value) => value): Escaping {
  const md: Escaping = {
    text: (value, max) => text(max === undefined ? redact(value) : clip(redact(value), max)),
    code: (value) => code(redact(value)),
    codeBlock: (value, max) => codeBlock(clip(redact(value), max)),
    link: (label, url) => {
      const shown = url === undefined ? undefined : redact(url);
      if (shown && isBrowsable(shown)) return mdLink(redact(label), shown);
      const local = shown?.startsWith('file://') ? ` (on the runner: ${md.code(fileURLToPath(shown))})` : '';
      return `${md.code(label)}${local}`;
    },
    note: (note) => (typeof note === 'string' ? md.text(note) : note.markdown),
  };
  return md;
}

/**
 * Whether a URL can be opened by whoever reads the summary, comment or outputs: http(s)
 * and written as the URL parser would keep it. The parser silently drops tabs and
 * newlines, so a URL holding any whitespace or control character is refused outright.
 */
export function isBrowsable(url: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(url) || !URL.canParse(url)) return false;
  const { protocol } = new URL(url);
  return protocol === 'http:' || protocol === 'https:';
}

/** A table row: each cell's Markdown with its pipes escaped. */
function row(cells: string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

/** The first `max` characters, saying how many were left out. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters; see the step's log)`;
}

/** Cuts at a line boundary and says so, so a huge report never loses all of itself. */
export function truncate(markdown: string, limit: number): string {
  if (Buffer.byteLength(markdown, 'utf8') <= limit) return markdown;
  const marker = '\n\n_(report truncated)_\n';
  let cut = markdown.slice(0, limit - marker.length);
  while (Buffer.byteLength(cut, 'utf8') > limit - marker.length) cut = cut.slice(0, -1024);
  const lastLine = cut.lastIndexOf('\n');
  return (lastLine > 0 ? cut.slice(0, lastLine) : cut) + marker;
}
