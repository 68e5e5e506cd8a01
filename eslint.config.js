import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    // Only the shell files may print or import @actions/core; the core gets a Logger.
    files: ['src/cli.ts', 'src/cli/**', 'scripts/**', 'test/**', 'src/logger.ts'],
    rules: { 'no-console': 'off' },
  },
);
