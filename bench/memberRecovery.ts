// How long a crashed event manager's partitions stay silent (issue 12): two
// members (CLI processes, own topic prefix), kill -9 one, start it again with
// the same member id after --restart-after-ms, and time, per partition the
// dead member held, until a probe record on it is processed again.
//
// The probe: an undecodable record on signaling-events every 100 ms per
// partition; the owning member dead-letters it in its transaction, naming
// `signaling-events[p]@offset`, so a read_committed reader of dead-letters sees
// partition p flowing the moment its owner commits again.
//
//   npx tsx bench/memberRecovery.ts [--mode static|dynamic] [--restart-after-ms 3000] [--partitions 6]
//
// static: today's members (static membership keyed by the member id, takeover on restart).
// dynamic: both members with --dynamic, the restart joining as a new member (the old behaviour).
import Kafka from 'node-rdkafka';
import { parseArgs } from 'node:util';
import { describeConsumerGroup } from '../kafka/consumerGroupAdmin.ts';
import { partitionOf } from '../kafka/partitioner.ts';
import { connectConsumer, consumeBatch, disconnect } from '../kafka/rdkafkaPromises.ts';
import { RecordProducer } from '../kafka/recordProducer.ts';
import { topicName } from '../schemas/topology.ts';
import { EVENT_MANAGER_GROUP } from '../streams/event-manager/eventManager.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../test/support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../test/support/memberProcess.ts';
import { eventually, sleep } from '../test/support/wait.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'static' },
    'restart-after-ms': { type: 'string', default: '3000' },
    partitions: { type: 'string', default: '6' },
  },
});
const mode = values.mode === 'dynamic' ? 'dynamic' : 'static';
const restartAfterMs = Number(values['restart-after-ms']);
const P = Number(values.partitions);
const s = isolatedSettings('bench-recovery', P);
const groupId = `${s.topics.prefix}${EVENT_MANAGER_GROUP}`;
const input = topicName(s.topics.prefix, 'signaling-events');
const deadLetters = topicName(s.topics.prefix, 'dead-letters');
const say = (l: string) => process.stderr.write(`${new Date().toISOString()} ${l}\n`);

/** A key per partition, so each probe lands where it should. */
const keyFor = (p: number) => {
  for (let i = 0; ; i++) if (partitionOf(`probe-${i}`, P) === p) return `probe-${i}`;
};

const members: MemberProcess[] = [];
const start = (id: string) =>
  startMemberProcess(s, id, ['event-manager', '--member-id', id, '--stats-interval', '60', ...(mode === 'dynamic' ? ['--dynamic'] : [])], /running against/);

await applyIsolated(s);
const producer = new RecordProducer(s.kafka.brokers, `${s.topics.prefix}probe`, 15_000);
await producer.connect();
const reader = new Kafka.KafkaConsumer(
  { 'metadata.broker.list': s.kafka.brokers, 'group.id': `${s.topics.prefix}probe-reader`, 'enable.auto.commit': false, 'isolation.level': 'read_committed' },
  { 'auto.offset.reset': 'latest' },
);
try {
  members.push(await start('em-a'), await start('em-b'));
  const held = await eventually(
    'both members holding partitions',
    async () => {
      const g = await describeConsumerGroup(s.kafka.brokers, groupId);
      const a = g?.members.find((m) => m.clientId === 'event-manager-em-a');
      const parts = a?.assignment.get(input);
      return g && g.members.length === 2 && g.members.every((m) => m.memberEpoch === g.groupEpoch) && parts && parts.length > 0 && parts.length < P
        ? parts
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  await sleep(2_000); // restores done
  await connectConsumer(reader);
  reader.assign(Array.from({ length: P }, (_, partition) => ({ topic: deadLetters, partition, offset: -1 /* end */ })));
  reader.setDefaultConsumeTimeout(50);

  // Probes on every partition, from now until the end.
  let probing = true;
  const probes = (async () => {
    for (let n = 0; probing; n++) {
      await Promise.all(Array.from({ length: P }, (_, p) => producer.send(input, keyFor(p), Buffer.from(`not avro ${n}`))));
      await sleep(100);
    }
  })();
  // Every partition flows before the crash.
  const flowing = new Map<number, number>();
  const watch = async (since: number, until: number, parts: number[]) => {
    flowing.clear();
    while (Date.now() < until && parts.some((p) => !flowing.has(p))) {
      for (const m of await consumeBatch(reader, 500)) {
        const text = m.value?.toString('latin1') ?? '';
        for (const p of parts) if (!flowing.has(p) && text.includes(`${input}[${p}]@`) && Date.now() >= since) flowing.set(p, Date.now());
      }
    }
  };
  await watch(Date.now(), Date.now() + 20_000, held);
  say(`em-a holds ${input} partitions ${held.join(',')}; all flowing before the crash`);

  members[0]!.signal('SIGKILL');
  const killedAt = Date.now();
  let runningAt = 0;
  const restart = (async () => {
    await sleep(restartAfterMs);
    members.push(await start('em-a'));
    runningAt = Date.now();
    say(`em-a restarted, running ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  })();
  // Drop dead letters of probes committed before the kill (already fetched).
  while (Date.now() < killedAt + 500) await consumeBatch(reader, 500);
  await watch(killedAt, killedAt + 120_000, held);
  await restart;
  probing = false;
  await probes;
  const per = held.map((p) => `p${p} ${flowing.has(p) ? `${((flowing.get(p)! - killedAt) / 1000).toFixed(1)} s` : 'not within 120 s'}`);
  const worst = Math.max(...held.map((p) => (flowing.get(p) ?? Infinity) - killedAt)) / 1000;
  const sinceRunning = (Math.max(...held.map((p) => flowing.get(p) ?? Infinity)) - runningAt) / 1000;
  process.stdout.write(
    `mode ${mode}, restart after ${restartAfterMs} ms: partitions of the killed member flowing again after ${per.join(', ')}; ` +
      `worst ${worst.toFixed(1)} s after the kill, ${sinceRunning.toFixed(1)} s after the restarted process was running (${((runningAt - killedAt) / 1000).toFixed(1)} s after the kill)\n`,
  );
} finally {
  await disconnect(reader);
  await producer.close();
  for (const m of members) await m.stop('SIGTERM').catch(() => m.signal('SIGKILL'));
  await cleanupIsolated(s);
}
