// Failures that must not silently stall or drop input, on the real broker:
// - a partition whose store cannot be restored (a changelog record the store
//   cannot decode) stops the transactional processor with the reason, instead
//   of leaving the partition paused forever while the member claims it;
// - a SUBSCRIBE that meets a watcher-rules outage (PostgreSQL) is retried when
//   the database answers again, not dead-lettered as malformed;
// - `presence run event-manager` whose processor must stop exits with status 1
//   and the reason, instead of staying in the group holding partitions.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import type { Subscription } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { TransactionalProcessor } from '../../kafka/transactionalProcessor.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';
import { sleep } from '../support/wait.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('processor failures', () => {
  it('a store that cannot be restored stops the processor with the reason instead of pausing the partition for good', async () => {
    const s = loadSettings();
    const prefix = `it-procfail-${Date.now().toString(36)}.`;
    const [input, changelog, output] = [`${prefix}input`, `${prefix}changelog`, `${prefix}output`];
    await withAdmin(s.kafka.brokers, (a) =>
      createTopicsAndWait(a, [
        { topic: input, numPartitions: 1 },
        { topic: output, numPartitions: 1 },
        { topic: changelog, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ]),
    );
    const producer = new RecordProducer(s.kafka.brokers, 'it-procfail', 15_000);
    await producer.connect();
    cleanups.push(async () => {
      await producer.close();
      await withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [input, output, changelog] }));
    });
    // A changelog record the store's decoder refuses (3 bytes, not an int64).
    await producer.send(changelog, 'k', Buffer.from([1, 2, 3]));
    await producer.send(input, 'k', Buffer.from('x'));
    const p = new TransactionalProcessor<number>({
      brokers: s.kafka.brokers,
      clientId: 'it-procfail',
      groupId: `${prefix}group`,
      inputTopics: [input],
      transactionalId: `${prefix}tx`,
      store: {
        changelogTopic: changelog,
        encode: (n) => Buffer.from(String(n)),
        decode: (b) => {
          if (b.length !== 8) throw new Error(`not a count (${b.length} bytes)`);
          return Number(b.readBigInt64BE());
        },
      },
      process: (batch) => batch.map((r) => ({ topic: output, key: r.key, value: r.value })),
    });
    await p.start();
    try {
      const outcome = await Promise.race([
        p.done().then(
          () => 'ended cleanly',
          (e: Error) => e.message,
        ),
        sleep(30_000).then(() => 'still running'),
      ]);
      expect(outcome).toMatch(/restore of partition 0 failed: .*not a count \(3 bytes\)/);
      expect(p.stats.records).toBe(0);
    } finally {
      await p.stop();
    }
  }, 60_000);

  it('a SUBSCRIBE that meets a watcher-rules outage is answered once the database is back, not dead-lettered', async () => {
    const base = isolatedSettings('procfail-rules', 1);
    const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
    const rulesSchema = `it_procfail_rules_${process.pid}`;
    await applyIsolated(s);
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    await serde.loadIds();
    const producer = new RecordProducer(s.kafka.brokers, 'it-procfail-rules', 15_000);
    await producer.connect();
    const db = new pg.Client(testDatabaseUrl);
    await db.connect();
    cleanups.push(async () => {
      await db.end();
      await producer.close();
      await dropSchema(rulesSchema);
      await cleanupIsolated(s);
    });
    const em = await startEventManager(s, { memberId: 'em-rules', rulesSchema, protocol: 'classic' });
    try {
      while (em.processor.ctx.partitions().length < 1) await sleep(100);
      // The rules table is unreachable (as when PostgreSQL is down or failing over).
      await db.query(`alter table ${rulesSchema}.watcher_rules rename to watcher_rules_away`);
      const key = 'msisdn:+351910000042';
      const sub: Subscription = {
        contactVerified: true,
        dialogFilter: null,
        requestId: 'sub-1',
        receivedAt: Date.now(),
        presentity: key,
        presentityUri: 'sip:+351910000042@ims.example.net',
        watcherUri: 'sip:watcher@example.com',
        event: 'presence',
        expires: 3600,
        callId: 'outage-1',
        watcherTag: 'wt-1',
        cseq: 1,
        contact: 'sip:watcher@127.0.0.1:5070',
        routeSet: [],
        accept: ['application/pidf+xml'],
        supported: [],
        body: null,
        frontEnd: 'fe-test',
        localTag: 'fe-1',
      };
      await producer.send(topicName(s.topics.prefix, 'subscriptions'), key, serde.encode('subscriptions', sub));
      await sleep(3000);
      await db.query(`alter table ${rulesSchema}.watcher_rules_away rename to watcher_rules`);
      const notifies = await readTopic({
        brokers: s.kafka.brokers,
        topic: topicName(s.topics.prefix, 'notify-requests'),
        partitions: 1,
        count: 1,
        timeoutMs: 30_000,
        settleMs: 500,
      });
      expect(notifies).toHaveLength(1);
      expect(await serde.decode('notify-requests', notifies[0]!.value!)).toMatchObject({ callId: 'outage-1', subscriptionState: 'active', cseq: 1 });
      expect(em.stats.deadLetters).toBe(0);
      expect(em.stats.subscribes).toBeGreaterThanOrEqual(1);
    } finally {
      await em.stop();
    }
  }, 90_000);

  it('presence run event-manager exits with status 1 and the reason when its processor must stop', async () => {
    const base = isolatedSettings('procfail-cli', 1);
    const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
    await applyIsolated(s);
    const producer = new RecordProducer(s.kafka.brokers, 'it-procfail-cli', 15_000);
    await producer.connect();
    cleanups.push(async () => {
      await producer.close();
      await cleanupIsolated(s);
    });
    // A changelog record that is not a registered Avro record: the store of partition 0 cannot be restored.
    await producer.send(topicName(s.topics.prefix, 'event-manager-presence-store-changelog'), 'msisdn:+351910000043', Buffer.from([1, 2, 3]));
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin/presence.mjs'), 'run', 'event-manager', '--member-id', 'em-poisoned', '--protocol', 'classic', '--stats-interval', '5'],
      {
        cwd: repoRoot,
        env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_PARTITIONS: '1', PRESENCE_DATABASE_URL: testDatabaseUrl },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.stdout!.resume();
    const code = await Promise.race([new Promise<number | null>((r) => child.once('exit', (c) => r(c))), sleep(60_000).then(() => 'still running')]);
    expect(code, stderr.slice(-500)).toBe(1);
    expect(stderr).toMatch(/restore of partition 0 failed/);
  }, 90_000);
});
