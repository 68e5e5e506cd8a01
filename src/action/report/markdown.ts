/**
 * Untrusted text (server answers, event payloads, run output, config values) placed into
 * the GitHub-flavoured Markdown of the job summary and the PR comment, one function per
 * context. Each shows the text as written and lets nothing in it become an image, a link,
 * an HTML tag, an @mention or a #reference.
 */

// A zero-width joiner after `@` or `#` keeps GitHub from linking a user, team or issue, and
// one inside `://` or `www.` from autolinking a URL, while the text reads the same.
const ZWJ = '\u200d';
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Text in a paragraph, heading, table cell, list item or link label: one line, shown
 * literally. The characters that make links, images, code and HTML are written as
 * character references (`&#91;`), which no Markdown parser takes for syntax (a backslash
 * escape is not enough: some renderers unescape a link's label before parsing it again).
 * Emphasis characters are left as they are: they can only restyle the text.
 */
export function text(value: string): string {
  return value
    .replace(/:\/\//g, `:${ZWJ}//`)
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}${ZWJ}.`)
    .replace(/[@#&<>\\`[\]]/g, (c) => (c === '@' || c === '#' ? `${c}${ZWJ}` : (ENTITY[c] ?? `&#${c.charCodeAt(0)};`)))
    .replace(/\r?\n|\r/g, '<br>');
}

/**
 * A code span: its fence is one backtick longer than the longest run inside, so no
 * backtick in the value can close it. Newlines become spaces (a blank line would end
 * the paragraph, and the span with it).
 */
export function code(value: string): string {
  const flat = value.replace(/\r?\n|\r/g, ' ');
  const fence = '`'.repeat(longestBacktickRun(flat) + 1);
  // Spaces keep a backtick at either end apart from the fence; one each side is not shown.
  const pad = flat.includes('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced code block whose fence no line of the value can close. */
export function codeBlock(value: string): string[] {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(value) + 1));
  return [fence, value, fence];
}

/**
 * One cell of a table row, from Markdown already escaped for its content: a `|` ends the
 * cell unless a backslash escapes it, and GFM pairs backslashes before looking, so each
 * pipe is given an odd number of them. Inside a code span the escape is taken out again.
 */
export function cell(markdown: string): string {
  return markdown.replace(/(\\*)\|/g, (_, slashes: string) => `${slashes}${slashes.length % 2 === 0 ? '\\' : ''}|`);
}

/** A link to `url`, which the caller has checked is an http(s) URL (`isBrowsable` in render.ts). */
export function link(label: string, url: string): string {
  return `[${text(label)}](${linkDestination(url)})`;
}

/**
 * A URL that a reader can open and that cannot end the link early: an http(s) URL as the
 * URL parser writes it (no spaces, quotes or angle brackets), with parentheses and
 * backslashes percent-encoded too, since they end or escape a Markdown destination.
 */
function linkDestination(url: string): string {
  return new URL(url).href.replace(/[()\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function longestBacktickRun(value: string): number {
  return Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
}
