import { isPair, isScalar, visit, type Document } from 'yaml';
import { ConfigError } from '../errors.js';
import { expandEnv } from './expand-env.js';
import { formatPath, type ConfigPath } from './locate.js';

/**
 * Expands `${VAR}` in every string of the document, in place. A variable that is not set
 * fails at its key; the values of secret ones are returned, to be masked everywhere.
 */
export function expandDocument(doc: Document, env: NodeJS.ProcessEnv, at: (p: ConfigPath) => string): { secrets: string[]; warnings: string[] } {
  const secrets: string[] = [];
  const warnings: string[] = [];
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const expansion = expandEnv(node.value, env);
      if (expansion.missing.length > 0) {
        const keyPath = ancestors
          .filter(isPair)
          .map((pair) => (isScalar(pair.key) ? String(pair.key.value) : ''));
        throw new ConfigError(
          `${at(keyPath)}: ${formatPath(keyPath)}: environment variable ${expansion.missing[0]} is not set ` +
            `(referenced as \${${expansion.missing[0]}})`,
        );
      }
      secrets.push(...expansion.secrets);
      warnings.push(...expansion.warnings.filter((w) => !warnings.includes(w)));
      node.value = expansion.value;
    },
  });
  return { secrets, warnings };
}
