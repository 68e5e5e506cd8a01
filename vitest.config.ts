import { defineConfig } from 'vitest/config';

// Two projects, as docker/build-push-action does: fast unit tests, and integration
// tests (*.itg.test.ts) against real services started by .ci/run.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.itg.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.itg.test.ts'],
          // The leak detector: no seeded secret in any log or process output a test produced.
          setupFiles: ['test/helpers/leak-check.setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
