// Our own synthetic traffic through the real taps path into the real broker:
// every generated packet decodes, every MAP message lands under the key of
// the subscriber the generator made it for, nothing is dead-lettered.
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePackets, subscriberIdentity } from '../../tools/generator/generate.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { generatorSource } from '../../tools/generator/generatorSource.ts';
import { runTap } from '../../taps/pipeline/tapPipeline.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';

const s = isolatedSettings('generator', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const dbUrl = testDatabaseUrl;
const schema = `it_generator_${process.pid}`;
const directory = new SubscriberDirectory(dbUrl, schema);
const gen = { subscribers: 30, durationSeconds: 1800, seed: 7, mix: { powerCycleSeconds: 900 } };

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  await directory.migrate();
  await directory.provision(
    Array.from({ length: gen.subscribers }, (_, i) => {
      const id = subscriberIdentity(i, {});
      return { imsi: id.imsi, msisdn: `+${id.msisdn}`, aor: id.aor };
    }),
  );
});

afterAll(async () => {
  await directory.close();
  await dropSchema(schema);
  await cleanupIsolated(s);
});

describe('generated traffic through the taps into Kafka', () => {
  it('decodes every packet and keys every MAP message by the subscriber it was generated for', async () => {
    const truth = [...generatePackets(gen)].map((p) => p.meta);
    const sum = await runTap(s, [generatorSource(gen)], { tap: 'generator', speed: Infinity, unknown: 'drop', directory });
    expect(sum.frames).toBe(truth.length);
    expect(sum.signals).toBe(truth.length);
    expect(sum.deadLetters).toBe(0);
    expect(Object.keys(sum.failures)).toEqual([]);

    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 4,
      count: sum.events,
      settleMs: 1000,
    });
    expect(records).toHaveLength(sum.events);
    const events = await Promise.all(records.map((r) => serde.decode('signaling-events', r.value!)));
    const keyOf = (i: number) => `msisdn:+${subscriberIdentity(i, {}).msisdn}`;
    const ours = new Set(Array.from({ length: gen.subscribers }, (_, i) => keyOf(i)));
    for (const e of events) expect(ours).toContain(e.subscriber);

    // MAP messages concern exactly one subscriber: per subscriber, the same operations and kinds.
    for (const i of [0, 1, 2, 3]) {
      const expected = truth
        .filter((m) => m.protocol === 'map' && m.subscriber === i)
        .map((m) => m.message.split('.').slice(0, 2).join('.'))
        .sort();
      const got = events
        .filter((e) => e.protocol === 'map' && e.subscriber === keyOf(i))
        .map((e) => `${e.message}.${e.kind}`)
        .sort();
      expect(got, `subscriber ${i}`).toEqual(expected);
    }
  });
});
