import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isScalar, LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import { ConfigError } from '../errors.js';
import { readProjectFile, TEXT_FILE_MAX_BYTES } from '../project-files.js';
import { locate, type ConfigPath, type Position } from './locate.js';

/** A config file parsed, with `at(path)`: `file:line:col` of a key, for error messages. */
export interface YamlFile {
  doc: Document;
  at(path: ConfigPath): string;
  /** `file:line:col` of an offset in the text. */
  atOffset(offset: number): string;
}

/**
 * Reads and parses the config file (`shown`: its name in messages). The working directory
 * must exist (else that, not the file, is what is missing), the file must be a regular file
 * inside it once links are followed; a syntax error or a key given twice fails at its
 * line and column.
 */
export function readYamlFile(file: string, shown: string, workdir: string): YamlFile {
  if (!existsSync(workdir) || !statSync(workdir).isDirectory()) {
    throw new ConfigError(
      `Working directory ${workdir} ${existsSync(workdir) ? 'is not a directory' : 'does not exist'}; ` +
        'set working-directory (or run from) the folder your config paths are relative to',
    );
  }
  const notFound = () => new ConfigError(`Config file ${shown} not found (looked for ${path.resolve(file)}). Set the config input or -c.`);
  if (!existsSync(file)) throw notFound();
  if (statSync(file).isDirectory()) {
    throw new ConfigError(`Config file ${shown} is a directory; give the file in it, e.g. ${path.join(shown, 'lolpop.yaml')}`);
  }
  // Bounded, a regular file, inside the project: a lolpop.yaml -> /dev/zero fails here at once.
  const bytes = readProjectFile({ root: workdir, file: path.resolve(file), what: `config file ${shown}` }, TEXT_FILE_MAX_BYTES);
  if (bytes === undefined) throw notFound();
  const counter = new LineCounter();
  // Duplicate keys are checked below in linear time: yaml's own uniqueKeys check compares
  // every key with every other one (50,000 keys took 17 s).
  const source = bytes.toString('utf8');
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  const where = (pos: Position) => `${shown}:${pos.line}:${pos.col}`;
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new ConfigError(`${where(syntaxErrorPosition(doc, source, counter, first))}: YAML syntax error: ${first.message.split('\n')[0]}`);
  }
  rejectDuplicateKeys(doc, counter, where);
  return {
    doc,
    at: (p) => {
      const pos = locate(doc, counter, p);
      return pos ? where(pos) : shown;
    },
    atOffset: (offset) => where(counter.linePos(offset)),
  };
}

/**
 * Where a syntax error is, as a user would point at it. yaml reports an unclosed `[`, `{`
 * or quote where the text ran out (the next line's column 1): the opening is the mistake.
 * Other errors it reports at the start of a line's indentation: the first character after
 * it is the offending one.
 */
function syntaxErrorPosition(doc: Document, source: string, counter: LineCounter, error: YAMLError): Position {
  const offset = error.pos[0];
  let opening: number | undefined;
  visit(doc, {
    Node(_key, node) {
      const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
      const unclosed = quoted || ('flow' in node && node.flow === true);
      // The innermost one cut off at the error: visited last, as it starts latest.
      if (unclosed && node.range && node.range[1] === offset && node.range[0] < offset) opening = node.range[0];
    },
  });
  if (opening !== undefined) return counter.linePos(opening);
  let first = offset;
  // Spaces only: a tab is itself the error ("Tabs are not allowed as indentation").
  while (source[first] === ' ') first++;
  // Only within the line: an error at the end of the text stays where it is.
  return counter.linePos(first < source.length && source[first] !== '\n' && source[first] !== '\r' ? first : offset);
}

/** A key given twice in one mapping is an error at the second one (the first would be silently lost). */
function rejectDuplicateKeys(doc: Document, counter: LineCounter, where: (pos: Position) => string): void {
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const item of map.items) {
        if (!isScalar(item.key)) continue;
        const key = String(item.key.value);
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const pos = item.key.range ? counter.linePos(item.key.range[0]) : { line: 1, col: 1 };
        throw new ConfigError(`${where(pos)}: YAML syntax error: the key '${key}' is given twice in the same mapping`);
      }
      return undefined;
    },
  });
}

/**
 * The document as plain values. yaml refuses an alias that points nowhere or an
 * alias bomb (more aliases than maxAliasCount: its resource-exhaustion guard): said
 * with the position of the first alias, like every other config error.
 */
export function toPlainValues(file: YamlFile, shown: string): unknown {
  try {
    return file.doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    let where = `${shown}:1:1`;
    visit(file.doc, {
      Alias(_key, node) {
        if (!node.range) return undefined;
        where = file.atOffset(node.range[0]);
        return visit.BREAK;
      },
    });
    throw new ConfigError(`${where}: YAML aliases: ${(error as Error).message.split('\n')[0]}`);
  }
}
