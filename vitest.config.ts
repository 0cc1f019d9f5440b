import { defineConfig } from 'vitest/config';

// Two projects: unit tests sit beside the code they test; integration tests
// live in test/integration and talk to the real broker, registry and database
// (their global setup brings the local stack up if it is not running).
export default defineConfig({
  test: {
    // The second names a file whose worker died mid-run (Vitest alone only says a worker exited).
    reporters: ['default', './test/support/unfinishedModulesReporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'test/architecture/**/*.test.ts',
            'test/support/**/*.test.ts',
            '{cli,config,protocols,subscriber,presence-document,schemas,kafka,coordinator,taps,front-end,infra,streams,services,connectors,tools,bench}/**/*.test.ts',
          ],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One broker on a 2-core machine: run integration files one at a time.
          fileParallelism: false,
        },
      },
      {
        // Chaos tests (test/chaos): minutes each (members paused past their session timeout); not in `npm test`, run with `npm run test:chaos`.
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 30 * 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
