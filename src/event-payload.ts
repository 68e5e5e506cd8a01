import { z } from 'zod';

/**
 * The fields of GitHub's event payload (GITHUB_EVENT_PATH) this project reads, with
 * the types GitHub documents for them. A payload is input like any other: a field of
 * the wrong type is refused with its name, never used (a numeric head.sha once
 * crashed the action with `a.slice is not a function`). Every field is optional,
 * because each event sends its own subset; the fields not listed pass through unread.
 */
const Repository = z.looseObject({ full_name: z.string() });
const Sha = z.string().regex(/^[0-9a-f]{40}$/, 'expected a commit SHA (40 hexadecimal digits)');
const PullRequest = z.looseObject({
  number: z.number().int().positive(),
  head: z
    .looseObject({
      sha: Sha.optional(),
      // null: the head's fork was deleted.
      repo: Repository.nullish(),
    })
    .optional(),
  base: z.looseObject({ sha: Sha.optional(), repo: Repository.optional() }).optional(),
});

export const EventPayload = z.looseObject({
  action: z.string().optional(),
  ref: z.string().optional(),
  // push: the branch's commit before and after it (before is all zeros for a new branch).
  before: Sha.optional(),
  after: Sha.optional(),
  ref_type: z.enum(['branch', 'tag']).optional(),
  deleted: z.boolean().optional(),
  repository: z.looseObject({ default_branch: z.string().optional() }).optional(),
  pull_request: PullRequest.optional(),
});
export type EventPayload = z.infer<typeof EventPayload>;

/** The payload, checked; or the one line that says which field is wrong and what it holds. */
export function checkEventPayload(parsed: unknown): { event: EventPayload } | { problem: string } {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { problem: 'is not a JSON object' };
  const checked = EventPayload.safeParse(parsed);
  if (checked.success) return { event: checked.data };
  const issue = checked.error.issues[0]!;
  const field = issue.path.join('.');
  return { problem: `has ${field} = ${shown(valueAt(parsed, issue.path))}: ${issue.message.replace(/^Invalid input: /, '')}` };
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined), data);
}

/** The offending value, as JSON on one short line (JSON escapes newlines and control characters). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
