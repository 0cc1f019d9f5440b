// Benchmark: publishing Avro signaling events with node-rdkafka vs kafkajs,
// both idempotent with acks=all, to the real local broker.
//   node bin/presence.mjs stack up && npx tsx bench/producers.ts [count]
// Prints records/s and MB/s for each client.
import kafkajs from 'kafkajs';
import { loadSettings } from '../config/settings.ts';
import type { SignalingEvent } from '../schemas/generated/records.ts';
import { RecordSerde } from '../schemas/serde.ts';
import { createTopicsAndWait, withAdmin } from '../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';

const count = Number(process.argv[2] ?? 200_000);
const s = loadSettings();
const prefix = `bench-${Date.now().toString(36)}.`;
const topic = `${prefix}signaling-events`;
const serde = new RecordSerde(s.registry.url, prefix);

function event(i: number): SignalingEvent {
  const msisdn = `+3519${String(10_000_000 + (i % 1_000_000))}`;
  return {
    eventId: `bench/${i}`,
    time: 1_700_000_000_000 + i,
    subscriber: `msisdn:${msisdn}`,
    identities: { imsi: `00101${String(1_000_000_000 + (i % 1_000_000))}`, msisdn, aor: null },
    protocol: 'map',
    message: 'updateLocation',
    kind: 'invoke',
    source: { tap: 'bench', capture: null, frame: i },
    map: {
      invokeId: 1,
      error: null,
      vlrNumber: '35191000001',
      mscNumber: '35191000002',
      sgsnNumber: null,
      hlrNumber: null,
      subscriberState: null,
      cellGlobalId: null,
      ageOfLocation: null,
      opc: 100,
      dpc: 200,
    },
    isup: null,
    location: null,
    sip: null,
    messaging: null,
  };
}

async function main(): Promise<void> {
  await withAdmin(s.kafka.brokers, (a) => createTopicsAndWait(a, [{ topic, numPartitions: 12 }]));
  await serde.registerAll();
  const records = Array.from({ length: count }, (_, i) => ({ key: event(i).subscriber, value: serde.encode('signaling-events', event(i)) }));
  const bytes = records.reduce((n, r) => n + r.value.length + r.key.length, 0);
  const report = (name: string, ms: number) =>
    console.log(
      `${name.padEnd(12)} ${count} records (${(bytes / count).toFixed(0)} B avg) in ${(ms / 1000).toFixed(2)}s: ${Math.round(count / (ms / 1000)).toLocaleString('en')} records/s, ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`,
    );

  {
    const p = new RecordProducer(s.kafka.brokers, 'bench-rdkafka');
    await p.connect();
    const t = Date.now();
    const window = 50_000; // bound in-flight promises
    for (let i = 0; i < records.length; i += window) {
      await Promise.all(records.slice(i, i + window).map((r) => p.send(topic, r.key, r.value)));
    }
    report('node-rdkafka', Date.now() - t);
    await p.close();
  }
  {
    const k = new kafkajs.Kafka({ clientId: 'bench-kafkajs', brokers: s.kafka.brokers.split(','), logLevel: kafkajs.logLevel.NOTHING });
    const p = k.producer({ idempotent: true, maxInFlightRequests: 5 });
    await p.connect();
    const t = Date.now();
    const batch = 1000;
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < records.length; i += batch) {
      inflight.push(p.send({ topic, acks: -1, compression: kafkajs.CompressionTypes.None, messages: records.slice(i, i + batch) }));
      if (inflight.length >= 5) await inflight.shift();
    }
    await Promise.all(inflight);
    report('kafkajs', Date.now() - t);
    await p.disconnect();
  }
  await withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [topic] }));
  for (const subj of (await (await fetch(`${s.registry.url}/subjects`)).json()) as string[]) {
    if (subj.startsWith(prefix)) {
      await fetch(`${s.registry.url}/subjects/${subj}`, { method: 'DELETE' });
      await fetch(`${s.registry.url}/subjects/${subj}?permanent=true`, { method: 'DELETE' });
    }
  }
}

await main();
