/** Whether an answer is an HTML page (a UI, a login page, a proxy's error page) rather than JSON. */
export function looksLikeHtml(contentType: string | null, text: string): boolean {
  return /html/i.test(contentType ?? '') || /^\s*</.test(text);
}

/**
 * What to check when an API answered with a web page: the variable that holds the URL
 * and where it should point. `htmlHint('PREFECT_API_URL', 'the API (ending in /api), not the UI')`.
 */
export function htmlHint(variable: string, shouldBe: string): string {
  return `is ${variable} ${shouldBe}?`;
}
