import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code they test; integration tests live in
// test/integration and talk to the real broker, registry and database (their
// global setup brings the local stack up if it is not running). `npm test` runs
// the unit files and most integration files two at a time, then the files that
// must run alone (ALONE) one by one: about twice as fast as one file at a time.

/**
 * Integration files that run alone, after the others: they bound a latency or a time
 * (an outage limit, a p99, a session timeout), need the records of two topics in one fetch
 * (streamTimeOrder), or load the CPU themselves (Kamailio, chromium, worker processes) —
 * a neighbour would make their figures, not our code, fail them.
 */
const ALONE = [
  'availabilityService',
  'blfKamailioInterop',
  'consoleBrowser',
  'eventService',
  'groupPresenceOutage',
  'kafkaSaslSsl',
  'loadAssignor',
  'locate',
  'managementThroughKafka',
  'memberCallHandling',
  'natWatcher',
  'notifyReflection',
  'notifySinkBacklog',
  'notifySinkOutage',
  'outageTimeLimit',
  'publish',
  'publishScaleOut',
  'rebalance',
  'sipFrontWorkers',
  'staticMember',
  'streamTimeOrder',
  'watcherConsent',
].map((name) => `test/integration/${name}.test.ts`);

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
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Integration files wait on the broker most of the time (one at a time, the load average
        // stayed near 1 on 2 cores): two at once, beside the unit tests.
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ALONE,
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration-alone',
          include: ALONE,
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
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
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
