import { ConfigError } from '../errors.js';

/** A command line split into argv, and whether only a shell can run it as written. */
export interface ShellWords {
  words: string[];
  /**
   * True when the command uses shell syntax (pipes, `&&`, redirections, `$VAR`, globs,
   * `VAR=value cmd`, …) that an exec-form CMD would pass through literally.
   */
  needsShell: boolean;
}

// Unquoted, these make a command line mean something else than its words.
const SHELL_SYNTAX = new Set([...'|&;<>()$`*?[]{}#~\n']);
// Inside double quotes the shell still expands these.
const EXPANDS_IN_DOUBLE_QUOTES = new Set(['$', '`']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * Splits a command line the way a POSIX shell does for plain words: whitespace separates,
 * '…' is literal, "…" honours \" \\ \$ \`, and a backslash outside quotes escapes the
 * next character. `key` names the setting in the error for an unclosed quote.
 */
export function splitShellWords(command: string, key: string): ShellWords {
  const words: string[] = [];
  let word: string | undefined;
  let needsShell = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command.charAt(i);
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word = (word ?? '') + c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < command.length && '"\\$`'.includes(command.charAt(i + 1))) {
        word = (word ?? '') + command.charAt(++i);
      } else {
        if (EXPANDS_IN_DOUBLE_QUOTES.has(c)) needsShell = true;
        word = (word ?? '') + c;
      }
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < command.length) {
      word = (word ?? '') + command.charAt(++i);
    } else if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      if (SHELL_SYNTAX.has(c)) needsShell = true;
      word = (word ?? '') + c;
    }
  }
  if (quote !== undefined) {
    throw new ConfigError(`Invalid ${key} '${command}'. Expected balanced quotes: a ${quote} is not closed.`);
  }
  if (word !== undefined) words.push(word);
  if (words[0] !== undefined && ASSIGNMENT.test(words[0])) needsShell = true;
  return { words, needsShell };
}
