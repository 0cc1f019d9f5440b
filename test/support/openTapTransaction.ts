// A tap that crashes inside a transaction, as a child process: opens the
// transactional producer a tap of this client id uses (its id computed here,
// in this process, as a restarted tap would in its own), writes one record in
// an open transaction, says "open" on stdout and waits to be killed.
// Usage: node --import tsx test/support/openTapTransaction.ts BROKERS PREFIX CLIENT_ID TOPIC
import Kafka from 'node-rdkafka';
import { beginTransaction, connectProducer, flush, initTransactions } from '../../kafka/rdkafkaPromises.ts';
import { producerTopicConfig, transactionalProducerConfig } from '../../kafka/rdkafkaConfig.ts';
import { tapTransactionalId } from '../../taps/signalingPublisher.ts';

const [brokers, prefix, clientId, topic] = process.argv.slice(2) as [string, string, string, string];
// Longer than the test waits: only fencing by a successor ends this transaction in time.
const producer = new Kafka.Producer(
  transactionalProducerConfig({ brokers, clientId }, tapTransactionalId(prefix, clientId), { 'transaction.timeout.ms': 60_000 }),
  producerTopicConfig,
);
await connectProducer(producer);
await initTransactions(producer, 15_000);
await beginTransaction(producer);
producer.produce(topic, 0, Buffer.from('left open by a crashed tap'), Buffer.from('crashed'), Date.now());
await flush(producer, 10_000);
process.stdout.write('open\n');
setInterval(() => {}, 60_000);
