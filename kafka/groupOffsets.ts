// Sets a stopped consumer group's positions, as `kafka-consumer-groups
// --reset-offsets --execute` does: one OffsetCommit outside any generation.
// (kafkajs's admin.setOffsets joins the group as a member to do it: seconds
// per topic.) A group that does not exist yet is created holding only these
// offsets; a KIP-848 member that joins it later starts from them.
import Kafka from 'node-rdkafka';
import { rdkafkaSecurity } from './kafkaSecurity.ts';
import { asError, connectConsumer, disconnect, type Consumer, type TopicPartitionOffset } from './rdkafkaPromises.ts';

export async function commitGroupOffsets(brokers: string, groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
  if (offsets.length === 0) return;
  const consumer: Consumer = new Kafka.KafkaConsumer(
    { 'metadata.broker.list': brokers, ...rdkafkaSecurity(), 'client.id': 'presence-group-offsets', 'group.id': groupId, 'enable.auto.commit': false },
    {},
  );
  await connectConsumer(consumer);
  try {
    consumer.commitSync(offsets);
  } catch (err) {
    throw new Error(`committing the offsets of consumer group ${groupId} failed: ${asError(err).message}`, { cause: err });
  } finally {
    await disconnect(consumer);
  }
}
