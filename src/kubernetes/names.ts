import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** The longest DNS-1123 label (Deployment, Secret and label-value limit). */
const MAX_NAME = 63;

/**
 * The one rule for every name this tool gives a Kubernetes object: a DNS-1123 label,
 * lower-case, `-` for anything else (`Quickstart_PR-3` → `quickstart-pr-3`). A longer name
 * (a preview's `<name>-pr-1234-<branch>`) is cut to 56 characters plus `-` and 6 hex of
 * the full name's SHA-256, so two long names that share a start still differ, and the
 * same name always gives the same cut. Done before anything is applied.
 */
export function kubernetesName(name: string, what: string): string {
  const out = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!out) throw new ConfigError(`${what} '${name}' gives no valid Kubernetes name (lower-case letters, digits and '-')`);
  if (out.length <= MAX_NAME) return out;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  return `${out.slice(0, MAX_NAME - 7).replace(/-+$/, '')}-${hash}`;
}
