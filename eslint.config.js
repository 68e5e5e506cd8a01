import { readdirSync } from 'node:fs';
import path from 'node:path';
import js from '@eslint/js';
import { globSync } from 'tinyglobby';
import tseslint from 'typescript-eslint';

const ACTIONS_ONLY_IN_SHELL = {
  group: ['@actions/*'],
  message: 'Only src/action/ (the GitHub Action shell) may import @actions/*; the core takes a Logger and an Exec.',
};
/** Every orchestrator folder: a new one is covered without touching this file. */
const root = import.meta.dirname;
const ORCHESTRATORS = readdirSync(path.join(root, 'src/orchestrators'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/**
 * The layers, highest first (docs/architecture.md): a file imports from its own layer or
 * a lower one, never a higher one; `import type` counts (a type-only import upward is how
 * the 17-file cycle through errors.ts closed). A file is in the first layer that lists it.
 */
const LAYERS = [
  { name: 'shell', files: ['src/action/**', 'src/cli/**', 'src/cli.ts', 'src/index.ts'] },
  {
    name: 'core',
    files: ['src/pipeline.ts', 'src/run-config.ts', 'src/run-many.ts', 'src/run-workflows.ts', 'src/cancel-run.ts', 'src/preflight.ts', 'src/step-requests.ts', 'src/orchestrators/registry.ts', 'src/config/**'],
    except: ['src/config/schema.ts', 'src/config/resources.ts'],
  },
  { name: 'orchestrators', files: ['src/orchestrators/**', 'src/deployment.ts', 'src/packaging/**'] },
  { name: 'http/util', files: ['src/**'] },
];
const layerFiles = new Map();
for (const [rank, layer] of LAYERS.entries()) {
  for (const file of globSync(layer.files.map((f) => f.replace(/\*\*$/, '**/*.ts')), { cwd: root, ignore: layer.except ?? [] }).sort()) {
    if (!layerFiles.has(file)) layerFiles.set(file, rank);
  }
}

/** Every import `file` may not write: each file of a higher layer, as `file` would name it. */
function upwardImports(file) {
  const rank = layerFiles.get(file);
  return [...layerFiles]
    .filter(([, other]) => other < rank)
    .map(([target, other]) => {
      const specifier = path.relative(path.dirname(file), target).replace(/\.ts$/, '.js');
      return {
        name: specifier.startsWith('.') ? specifier : `./${specifier}`,
        message: `${file} is in the ${LAYERS[rank].name} layer and ${target} in the ${LAYERS[other].name} layer above it: nothing imports upward (shell → core → orchestrators → http/util; docs/architecture.md); move what both need down.`,
      };
    });
}

/** Every import restriction of one source file, in one rule entry (a later entry would replace an earlier one). */
function restrictedImports(file) {
  const own = /^src\/orchestrators\/([^/]+)\//.exec(file)?.[1];
  const patterns = [];
  if (!file.startsWith('src/action/') && file !== 'src/exec.ts') patterns.push(ACTIONS_ONLY_IN_SHELL);
  if (own && ORCHESTRATORS.includes(own)) {
    patterns.push({
      group: ORCHESTRATORS.filter((other) => other !== own).map((other) => `**/${other}/**`),
      message: `src/orchestrators/${own}/ imports nothing from another orchestrator's folder; share through src/orchestrators/ or src/packaging/.`,
    });
  }
  return { files: [file], rules: { 'no-restricted-imports': ['error', { paths: upwardImports(file), patterns }] } };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Type-aware rules for the code that ships: promises that nobody awaits, awaits on
    // non-promises and switches that miss a case are bugs the types can see.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // The 1.0 request fields stay for modules only: the built-in code reads `resolved`.
      '@typescript-eslint/no-deprecated': 'error',
    },
  },
  {
    // The one file that still fills the deprecated 1.0 request fields, for modules written for 1.0.
    files: ['src/step-requests.ts'],
    rules: { '@typescript-eslint/no-deprecated': 'off' },
  },
  // The boundaries, per source file: the core (everything but the action shell) never
  // imports @actions/*, so the same code serves the action, the CLI and the tests (processes
  // run through the Exec adapter in src/exec.ts, the one exception); each orchestrator
  // folder is its own (what two share lives in a neutral place, so moving or removing one
  // touches nothing else); and no file imports from a layer above its own.
  ...[...layerFiles.keys()].map(restrictedImports),
  {
    // Only the shell files may print; the core gets a Logger.
    files: ['src/cli.ts', 'src/cli/**', 'scripts/**', 'test/**', 'src/logger.ts'],
    rules: { 'no-console': 'off' },
  },
);
