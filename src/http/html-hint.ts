/**
 * What kind of markup an answer is, when it is markup rather than JSON: an HTML page
 * (a UI, a login page, a proxy's error page) or an XML document (an object store's or
 * a gateway's error). Told by the content type, else by the body's start; a body that
 * starts with `<` and is neither is "markup". Undefined: not markup.
 */
export function markupKind(contentType: string | null, text: string): 'HTML' | 'XML' | 'markup' | undefined {
  const type = contentType ?? '';
  if (/html/i.test(type)) return 'HTML';
  if (/xml/i.test(type)) return 'XML';
  if (!/^\s*</.test(text)) return undefined;
  if (/^\s*<(!doctype html|html|head|body)\b/i.test(text)) return 'HTML';
  if (/^\s*<\?xml\b/i.test(text)) return /<html\b/i.test(text.slice(0, 500)) ? 'HTML' : 'XML';
  return 'markup';
}

/**
 * What to check when an API answered with a web page: the variable that holds the URL
 * and where it should point. `htmlHint('PREFECT_API_URL', 'the API (ending in /api), not the UI')`.
 */
export function htmlHint(variable: string, shouldBe: string): string {
  return `is ${variable} ${shouldBe}?`;
}
