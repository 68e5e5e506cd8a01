import { formatDuration } from '../../duration.js';
import { describeExit } from './child.js';
import type { RunRecord } from './state.js';

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** More than this many log lines and the report keeps the tail; log.txt keeps all. */
export const REPORT_LOG_LINES = 5000;
/** The report shows at most this many characters of log (the tail) … */
export const REPORT_LOG_CHARS = 512 * 1024;
/** … and of each line. */
export const REPORT_LINE_CHARS = 20 * 1024;

const STATE_COLOURS: Record<string, string> = {
  COMPLETED: '#1a7f37',
  FAILED: '#cf222e',
  CRASHED: '#cf222e',
  CANCELLED: '#6e7781',
  RUNNING: '#9a6700',
};

export interface ReportOptions {
  /** How many lines the run printed in all, when `log` is only their tail. */
  totalLines?: number;
}

/**
 * The run report, `runs/<id>/report.html`: one self-contained page (inline CSS, no
 * script, no external resources) with the state, the deployment, parameters,
 * timestamps and the escaped log. Pure, so it is tested without a run.
 */
export function renderRunReport(run: RunRecord, log: readonly LogLine[], options: ReportOptions = {}): string {
  const colour = STATE_COLOURS[run.state] ?? '#57606a';
  const total = Math.max(options.totalLines ?? log.length, log.length);
  const shown = logTail(log);
  const omitted = total - shown.length;
  const rows: Array<[string, string]> = [
    ['Deployment', code(run.deployment)],
    ['Entrypoint', code(run.entrypoint)],
    ['Run id', code(run.id)],
    ['Started', escapeHtml(readableTime(run.started))],
    ['Ended', run.ended ? escapeHtml(readableTime(run.ended)) : '—'],
    ['Duration', run.durationMs === undefined ? '—' : escapeHtml(formatDuration(run.durationMs))],
    ['Exit', run.exitCode === undefined && !run.signal ? '—' : code(describeExit(run.exitCode, run.signal))],
    ['Command', code(run.command.join(' '))],
  ];
  if (run.error) rows.push(['Why', escapeHtml(run.error)]);
  if (run.idempotencyKey) rows.push(['Idempotency key', code(run.idempotencyKey)]);
  const logHtml = shown
    .map((line, i) => {
      const cls = line.stream === 'stderr' ? ' class="err"' : '';
      return `<span${cls}><i>${omitted + i + 1}</i>${escapeHtml(line.text)}</span>`;
    })
    .join('');
  const failure = run.state !== 'COMPLETED' && run.state !== 'RUNNING' ? failureLines(shown) : [];
  const failureTitle = run.error ?? describeExit(run.exitCode, run.signal);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${run.state} · ${run.deployment} · run ${run.id}`)}</title>
<style>
  :root { color-scheme: light; --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
  main { max-width: 1100px; margin: 0 auto; padding: 28px 32px 48px; }
  header { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; border-bottom: 1px solid var(--line); padding-bottom: 16px; }
  h1 { font-size: 22px; margin: 0; font-weight: 600; }
  h1 code { font-size: inherit; }
  .failure { border: 1px solid #ff8182; background: #ffebe9; border-radius: 6px; padding: 10px 14px; margin: 20px 0 0; }
  .failure strong { display: block; margin-bottom: 4px; color: #a40e26; }
  .failure pre { background: transparent; border: 0; padding: 0; }
  h2 { font-size: 16px; margin: 28px 0 10px; }
  .state { color: #fff; background: ${colour}; border-radius: 999px; padding: 3px 14px; font-weight: 600; font-size: 14px; letter-spacing: .04em; }
  .sub { color: var(--muted); margin: 6px 0 0; width: 100%; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 5px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { width: 170px; color: var(--muted); font-weight: 500; white-space: nowrap; }
  code, pre { font: 13px/1.45 ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; }
  td code { background: var(--bg); padding: 1px 6px; border-radius: 4px; word-break: break-all; }
  pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin: 0; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
  pre.log span { display: block; padding-left: 3.6em; text-indent: -3.6em; }
  pre.log i { display: inline-block; width: 3em; margin-right: .6em; text-indent: 0; text-align: right; color: #8c959f; font-style: normal; user-select: none; }
  pre.log .err { color: #a40e26; background: #fff0f0; }
  .note { color: var(--muted); font-size: 13px; margin: 6px 0; }
</style>
</head>
<body>
<main>
<header>
  <h1>Run of <code>${escapeHtml(run.deployment)}</code></h1>
  <span class="state">${escapeHtml(run.state)}</span>
  <p class="sub">LocalOrchestrator · lolpop-deploy · started ${escapeHtml(readableTime(run.started))}</p>
</header>
${failure.length > 0 ? `<div class="failure"><strong>${escapeHtml(capitalize(failureTitle))}; the run's last lines:</strong><pre>${escapeHtml(failure.join('\n'))}</pre></div>\n` : ''}<h2>Summary</h2>
<table>
${rows.map(([k, v]) => `  <tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`).join('\n')}
</table>
<h2>Parameters</h2>
<pre>${escapeHtml(JSON.stringify(run.parameters, null, 2))}</pre>
<h2>Log <span class="note">(${total} line${total === 1 ? '' : 's'}; standard error in red)</span></h2>
${omitted > 0 ? `<p class="note">The first ${omitted} lines are omitted here; log.txt next to this report has them.</p>\n` : ''}<pre class="log">${logHtml || '<span class="note">(no output)</span>'}</pre>
</main>
</body>
</html>
`;
}

/** The last lines within REPORT_LOG_LINES and REPORT_LOG_CHARS, each cut at REPORT_LINE_CHARS. */
function logTail(log: readonly LogLine[]): LogLine[] {
  const shown: LogLine[] = [];
  let chars = 0;
  for (let i = log.length - 1; i >= 0 && shown.length < REPORT_LOG_LINES; i--) {
    const line = log[i]!;
    const text = line.text.length > REPORT_LINE_CHARS ? `${line.text.slice(0, REPORT_LINE_CHARS)} … [${line.text.length - REPORT_LINE_CHARS} more characters in log.txt]` : line.text;
    chars += text.length;
    if (chars > REPORT_LOG_CHARS && shown.length > 0) break;
    shown.push(text === line.text ? line : { ...line, text });
  }
  return shown.reverse();
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `2025-01-31T12:05:01.123Z` → `2025-01-31 12:05:01 UTC`. */
function readableTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

/** The last lines of a failed run: with a Python traceback, the exception is the last one. */
function failureLines(log: readonly LogLine[]): string[] {
  return log.map((l) => l.text).filter((t) => t.trim() !== '').slice(-3);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function code(text: string): string {
  return `<code>${escapeHtml(text)}</code>`;
}
