// Benchmark: `presence topics repartition` on a large state changelog: how
// fast the copy moves records into the new partition count (issue 15.4).
//   npx tsx bench/repartition.ts          (needs `presence stack up`)
//   BENCH_RECORDS=1000000 BENCH_VALUE_BYTES=180 BENCH_PARTITIONS=24 size it.
// The changelog is filled with records of the size a subscriber's state has
// (~180 B at 1M, bench/RESULTS.md); nothing reads them, so their bytes are random.
import { randomBytes } from 'node:crypto';
import Kafka from 'node-rdkafka';
import { loadSettings } from '../config/settings.ts';
import { applyTopology } from '../kafka/applyTopology.ts';
import { cleanupIsolated } from '../test/support/isolatedStack.ts';
import { producerConfig, producerTopicConfig } from '../kafka/rdkafkaConfig.ts';
import { connectProducer, disconnect, flush } from '../kafka/rdkafkaPromises.ts';
import { repartition } from '../kafka/repartition/repartition.ts';
import { topicName } from '../schemas/topology.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const VALUE_BYTES = Number(process.env.BENCH_VALUE_BYTES ?? 180);
const TO_PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 24);

const base = loadSettings();
const stamp = Date.now().toString(36);
const s = { ...base, topics: { ...base.topics, prefix: `bench-repart-${stamp}.` } };
const to = { prefix: `bench-repart-${stamp}-v2.`, partitions: TO_PARTITIONS };
try {
  await applyTopology(s);
  const changelog = topicName(s.topics.prefix, 'event-manager-presence-store-changelog');
  const producer = new Kafka.Producer(
    producerConfig({ brokers: s.kafka.brokers, clientId: 'bench-repartition-fill' }, { 'queue.buffering.max.messages': 200_000 }),
    producerTopicConfig,
  );
  await connectProducer(producer);
  producer.setPollInterval(50);
  const value = randomBytes(VALUE_BYTES);
  const t0 = performance.now();
  for (let i = 0; i < RECORDS; i++) {
    for (;;) {
      try {
        producer.produce(changelog, null, value, Buffer.from(`msisdn:+999${String(i).padStart(9, '0')}`));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
  await flush(producer, 120_000);
  await disconnect(producer);
  console.log(`filled ${changelog}: ${RECORDS.toLocaleString('en')} records of ${VALUE_BYTES} B in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const r = await repartition(s, to, { log: () => {} });
  const copied = r.copied.reduce((n, c) => n + c.records, 0);
  const bytes = r.copied.reduce((n, c) => n + c.bytes, 0);
  console.log(
    `repartition ${s.topics.partitions} → ${TO_PARTITIONS} partitions: ${copied.toLocaleString('en')} records (${(bytes / 1e6).toFixed(0)} MB) in ${r.seconds.toFixed(1)} s = ` +
      `${Math.round(copied / r.seconds).toLocaleString('en')} records/s, topology and checks included`,
  );
} finally {
  // Topics and registry subjects of both prefixes.
  await cleanupIsolated(s);
  await cleanupIsolated({ ...s, topics: { ...s.topics, ...to } });
}
