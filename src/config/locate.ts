import { isMap, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

export type ConfigPath = ReadonlyArray<string | number>;

/** Where a key sits in the YAML file, 1-based, as editors show it. */
export interface Position {
  line: number;
  col: number;
}

/**
 * Finds the position of `path` in the document: the key itself when it exists
 * (so "unknown key" and "wrong type" point at the key a user typed), else the
 * nearest parent that exists (for a missing required key).
 */
export function locate(doc: Document, counter: LineCounter, path: ConfigPath): Position | undefined {
  let node: unknown = doc.contents;
  let position = rangeStart(node, counter);
  for (const segment of path) {
    // A list item (mounts[0]): its start, then on into it.
    if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      position = rangeStart(item, counter) ?? position;
      node = item;
      continue;
    }
    if (!isMap(node)) break;
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
    if (!pair) break;
    position = rangeStart(pair.key, counter) ?? position;
    node = pair.value;
  }
  return position;
}

function rangeStart(node: unknown, counter: LineCounter): Position | undefined {
  const range = (node as Node | null | undefined)?.range;
  if (!range) return undefined;
  const { line, col } = counter.linePos(range[0]);
  return { line, col };
}

/** `orchestrator.deployment.package.work_pool`, with list indexes as `[0]`. */
export function formatPath(path: ConfigPath): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}
