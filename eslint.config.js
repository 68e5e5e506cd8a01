import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ACTIONS_ONLY_IN_SHELL = {
  group: ['@actions/*'],
  message: 'Only src/action/ (the GitHub Action shell) may import @actions/*; the core takes a Logger and an Exec.',
};
/** Every orchestrator folder: a new one is covered without touching this file. */
const ORCHESTRATORS = readdirSync(new URL('./src/orchestrators/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

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
  {
    // The boundary: the core (everything but the action shell) never imports @actions/*,
    // so the same code serves the action, the CLI and the tests. Processes run through
    // the Exec adapter in src/exec.ts (@actions/exec), the one allowed exception.
    files: ['src/**/*.ts'],
    ignores: ['src/action/**', 'src/exec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ACTIONS_ONLY_IN_SHELL] }] },
  },
  // Each orchestrator folder is its own: what two share (names, packaging, the launcher,
  // polling) lives in a neutral place, so moving or removing one touches nothing else.
  ...ORCHESTRATORS.map((own) => ({
    files: [`src/orchestrators/${own}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ACTIONS_ONLY_IN_SHELL,
            {
              group: ORCHESTRATORS.filter((other) => other !== own).map((other) => `**/${other}/**`),
              message: `src/orchestrators/${own}/ imports nothing from another orchestrator's folder; share through src/orchestrators/ or src/packaging/.`,
            },
          ],
        },
      ],
    },
  })),
  {
    // Only the shell files may print; the core gets a Logger.
    files: ['src/cli.ts', 'src/cli/**', 'scripts/**', 'test/**', 'src/logger.ts'],
    rules: { 'no-console': 'off' },
  },
);
