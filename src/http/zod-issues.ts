import type { z } from 'zod';

/** What was wrong with a body, in a few words: "id: missing; state: expected object, got string". */
export function describeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    let what = issue.message.replace(/^Invalid input: /, '');
    if (issue.code === 'invalid_type') {
      const got = /received (\w+)/.exec(issue.message)?.[1];
      what = got === 'undefined' ? `missing (expected ${issue.expected})` : `expected ${article(issue.expected)}, got ${article(got ?? 'something else')}`;
    }
    return `${where}${what}`;
  });
  if (error.issues.length > 3) parts.push(`and ${error.issues.length - 3} more`);
  return parts.join('; ');
}

function article(type: string): string {
  if (type === 'null' || type === 'undefined') return type;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
