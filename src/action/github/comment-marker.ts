import { createHash } from 'node:crypto';
import type { CiContext } from '../../ci-context.js';

/**
 * The workflow a comment belongs to: the repository and the workflow file
 * (GITHUB_WORKFLOW_REF without its @ref, so a PR's runs and the push after its merge
 * are one workflow). Two workflows deploying the same name keep two comments, and
 * no change to another workflow's config (a deployment-name) can reach this one's.
 */
export function workflowScope(ci: CiContext): string {
  return `${ci.repository}\n${ci.workflow ?? ''}`;
}

/**
 * The hidden first line that marks a comment as the one for a deployment of a
 * workflow: the key for people reading the source, and a hash of workflow and key
 * that only this workflow's writes produce. Markers of the earlier form (the key
 * alone) are not read: any workflow of the repository could write one, and taking
 * such a comment over is what this replaced; a PR open during the upgrade gets a new
 * comment and keeps the old one as it was.
 */
export function commentMarker(key: string, scope: string): string {
  // Only characters that cannot end an HTML comment or break the line; short enough
  // to fit in the room COMMENT_LIMIT leaves under GitHub's 65,536 characters.
  const safe = key.replace(/[^A-Za-z0-9._/:@+-]/g, '_').replace(/-{2,}/g, '-').slice(0, 200);
  const hash = createHash('sha256').update(`${scope}\n${key}`).digest('hex').slice(0, 16);
  return `<!-- lolpop-deploy:${safe} ${hash} -->`;
}
