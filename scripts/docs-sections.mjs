// The parts of README.md and action.yml that name the orchestrators, the inputs and the
// outputs, made from their sources: the orchestrator registry (src/orchestrators/registry.ts,
// as `lolpop-deploy orchestrators --json` prints it) and action.yml's inputs and outputs.
// Pure: scripts/write-docs.mjs writes what these return, test/docs/generated-docs.test.ts
// fails when the committed files differ from it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';

/**
 * @typedef {{ name: string, description: string, docs: string, default: boolean }} OrchestratorEntry
 *   One built-in orchestrator as the registry describes it.
 */

/** The files this module keeps, relative to the repository root. */
export const GENERATED_FILES = ['README.md', 'action.yml'];

/** A table cell: one line, a `|` escaped. */
function cell(text) {
  return String(text).replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** A Markdown table; an empty cell is written `| |`. */
function table(header, rows) {
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`.replace(/\| {2}\|/g, '| |');
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** The orchestrators table: one row per built-in, its registry description and guide. */
export function orchestratorsTable(orchestrators) {
  return table(
    ['orchestrator', 'what it deploys to', 'documentation'],
    orchestrators.map((o) => [`\`${o.name}\``, o.default ? `${o.description}; the default` : o.description, `[${o.docs}](${o.docs})`]),
  );
}

/** action.yml's inputs as a table: name, default, description. */
export function inputsTable(action) {
  return table(
    ['input', 'default', 'description'],
    Object.entries(action.inputs ?? {}).map(([name, input]) => [`\`${name}\``, input.default === undefined ? '' : `\`${input.default}\``, input.description]),
  );
}

/** action.yml's outputs as a table: name, description. */
export function outputsTable(action) {
  return table(
    ['output', 'description'],
    Object.entries(action.outputs ?? {}).map(([name, output]) => [`\`${name}\``, output.description]),
  );
}

/** The `orchestrator` input's description: the built-ins by name, the default by name. */
export function orchestratorInputDescription(orchestrators) {
  const names = orchestrators.map((o) => `\`${o.name}\``);
  const fallback = orchestrators.find((o) => o.default);
  return (
    `The orchestrator to deploy with (lolpop's \`--deployer\`/\`--packager\`): ${names.join(', ')} or a module path (\`./my_orchestrator.mjs\`). ` +
    `Default the config's \`decorator.orchestrator\` when it is one of those, else \`${fallback?.name}\`.`
  );
}

/**
 * `text` with the lines between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`
 * replaced by `body`. A file without the pair is an error: the markers say where the
 * section goes, so a README rewritten without them cannot drift unnoticed.
 */
export function fillSection(text, name, body, file) {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${file}: no ${open} … ${close} pair; put the markers where the ${name} table belongs`);
  return `${text.slice(0, start + open.length)}\n${body}\n${text.slice(end)}`;
}

/** What README.md and action.yml should hold, from their current text and the registry. */
export function generatedTexts(current, orchestrators) {
  const doc = parseDocument(current['action.yml']);
  doc.setIn(['inputs', 'orchestrator', 'description'], orchestratorInputDescription(orchestrators));
  const actionYml = doc.toString({ lineWidth: 0 });
  const action = doc.toJS();
  let readme = current['README.md'];
  readme = fillSection(readme, 'orchestrators', orchestratorsTable(orchestrators), 'README.md');
  readme = fillSection(readme, 'inputs', inputsTable(action), 'README.md');
  readme = fillSection(readme, 'outputs', outputsTable(action), 'README.md');
  return { 'README.md': readme, 'action.yml': actionYml };
}

/** The generated files under `root` that differ from what they should hold, and those texts. */
export function driftedFiles(root, orchestrators) {
  const current = Object.fromEntries(GENERATED_FILES.map((file) => [file, readFileSync(path.join(root, file), 'utf8')]));
  const wanted = generatedTexts(current, orchestrators);
  return GENERATED_FILES.filter((file) => wanted[file] !== current[file]).map((file) => ({ file, text: wanted[file] }));
}
