import { marked } from 'marked';

/** Markdown as GitHub renders it (GitHub-flavoured: tables, autolinks). */
export function html(markdown: string): string {
  return marked.parse(markdown, { gfm: true, async: false });
}

/** What a reader sees: the HTML's text, character references decoded. */
export function visibleText(rendered: string): string {
  return rendered
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, '&');
}

/**
 * What an attacker could have added to a report: images, links to anywhere but `origins`,
 * raw HTML, @mentions and #references (GitHub links those in the rendered text, not in
 * code), bare URLs GitHub would autolink. Empty when the report is clean.
 */
export function injectedMarkup(origins: readonly string[], markdown: string): string[] {
  const rendered = html(markdown);
  const found: string[] = [];
  if (/<img\b/i.test(rendered)) found.push('an image');
  for (const [, href] of rendered.matchAll(/<a\b[^>]*href="([^"]*)"/gi)) {
    if (!origins.some((origin) => href!.startsWith(origin.endsWith('/') ? origin : `${origin}/`))) found.push(`a link to ${href}`);
  }
  if (/<(script|iframe|svg|style|form|input)\b/i.test(rendered)) found.push('an HTML tag');
  // The report's own references ("workflow run #12", "pull request #7") are not the attacker's.
  const outsideCode = visibleText(rendered.replace(/<code>[\s\S]*?<\/code>/g, '')).replace(/(workflow run|pull request) #\d+/g, '');
  if (/(^|[^\w])@[A-Za-z0-9]/.test(outsideCode)) found.push('an @mention');
  if (/(^|[^\w])#\d/.test(outsideCode)) found.push('a #reference');
  if (/https?:\/\/|www\./.test(outsideCode)) found.push('a bare URL GitHub would autolink');
  return found;
}
