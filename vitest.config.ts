import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code they test; integration tests live in
// test/integration and talk to the real broker, registry and database (their
// global setup brings the local stack up if it is not running). `npm test` runs
// the unit files and most integration files three at a time (one pool: both
// projects of a group share its workers), then the files that must run alone
// (ALONE) one by one. Three at once on 2 cores: that phase took 940 s instead of
// 1,049 s with two, the whole suite 1,276 s instead of 1,516 s (2026-12-07).

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
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Integration files wait on the broker most of the time (two at a time, 1.4 files ran on
        // average and the cores were often idle): three at once, sharing the pool with the unit tests.
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ALONE,
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 3,
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
