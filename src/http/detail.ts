/**
 * The reason an error answer gives, in one line. Prefect and Airflow (both FastAPI)
 * answer `{detail: "…"}`, a validation list `{detail: [{loc, msg}]}`, Airflow also
 * `{detail: {reason, message}}`, Prefect also `{exception_message, exception_detail}`;
 * anything else is shown as its text.
 */
export function readDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown; exception_message?: unknown; exception_detail?: unknown };
    const detail = body.detail;
    if (typeof detail === 'string') return oneLine(detail);
    if (typeof body.exception_message === 'string') {
      const extra = Array.isArray(body.exception_detail) ? validationList(body.exception_detail) : '';
      return oneLine(extra ? `${body.exception_message} (${extra})` : body.exception_message);
    }
    if (Array.isArray(detail)) return oneLine(validationList(detail));
    if (detail && typeof detail === 'object') {
      const d = detail as { reason?: unknown; message?: unknown };
      const said = [d.reason, d.message].filter((x) => typeof x === 'string').join(': ');
      if (said) return oneLine(said);
    }
  } catch {
    // not JSON
  }
  return oneLine(text);
}

/** `[{loc: ['body', 'a', 'b'], msg}]` → `a.b: msg; …` (the first element of loc names the part: body, query). */
function validationList(items: unknown[]): string {
  return items
    .map((item) => {
      const d = (item ?? {}) as { loc?: unknown; msg?: unknown };
      const loc = Array.isArray(d.loc) ? d.loc.slice(1).join('.') : '';
      return `${loc}: ${typeof d.msg === 'string' ? d.msg : JSON.stringify(item)}`;
    })
    .join('; ');
}

/** A text on one line, at most 300 characters. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** The start of a body, on one line, for a message. */
export function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}
