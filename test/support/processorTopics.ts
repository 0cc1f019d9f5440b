// Input, output and changelog topics for one transactional-processor test under a
// prefix of its own, with a producer for the input; deleted by the cleanup it registers.
import { loadSettings } from '../../config/settings.ts';
import { createTopicsAndWait, withAdmin } from '../../kafka/kafkaAdmin.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import type { TransactionalProcessorOptions } from '../../kafka/transactionalProcessor.ts';

export async function processorTopics(label: string, name: string, partitions: number, cleanups: Array<() => Promise<void>>) {
  const s = loadSettings();
  const prefix = `it-${label}-${name}-${Date.now().toString(36)}.`;
  const t = { prefix, input: `${prefix}input`, output: `${prefix}output`, changelog: `${prefix}changelog` };
  await withAdmin(s.kafka.brokers, (a) =>
    createTopicsAndWait(a, [
      { topic: t.input, numPartitions: partitions },
      { topic: t.output, numPartitions: 1 },
      { topic: t.changelog, numPartitions: partitions, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    ]),
  );
  const producer = new RecordProducer(s.kafka.brokers, `it-${label}-${name}`, 15_000);
  await producer.connect();
  cleanups.push(async () => {
    await producer.close();
    await withAdmin(s.kafka.brokers, (a) => a.deleteTopics({ topics: [t.input, t.output, t.changelog] }));
  });
  return { ...t, producer };
}

/** A per-key count as the store's value. */
export const countStore = { encode: (n: number) => Buffer.from(String(n)), decode: (b: Buffer) => Number(b.toString()) };

/**
 * Member `id` of the topics' group, classic protocol, 6 s session and max.poll.interval.ms:
 * one that stalls longer is a zombie whose successor takes its partition (the fencing tests).
 */
export function stallableMember(
  t: { prefix: string; input: string; changelog: string },
  id: string,
  label: string,
): Omit<TransactionalProcessorOptions<number>, 'process'> {
  return {
    brokers: loadSettings().kafka.brokers,
    clientId: `it-${label}-${id}`,
    groupId: `${t.prefix}group`,
    protocol: 'classic',
    inputTopics: [t.input],
    transactionalId: `${t.prefix}${id}`,
    consumerConfig: { 'session.timeout.ms': 6000, 'max.poll.interval.ms': 6000 },
    store: { changelogTopic: t.changelog, ...countStore },
  };
}
