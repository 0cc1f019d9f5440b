// Which Kafka cluster, and which incarnation of a topic, a state checkpoint's
// offsets belong to: the cluster id and the topic id (KIP-516) from one Metadata
// request (API 3, v12). A topic deleted and created again under the same name has
// a new id, and its offsets mean nothing for an old checkpoint even when its log
// has grown past them. kafkajs 2.2 and node-rdkafka expose neither the topic id
// nor (node-rdkafka) the cluster id, hence the wire request.
import { WireWriter, wireRequest } from './kafkaWire.ts';

const METADATA = 3;

export interface ChangelogIdentity {
  clusterId: string;
  /** The topic's id as 32 hex digits. */
  topicId: string;
}

/** Asks the first reachable bootstrap broker; throws when none answers or the topic is unknown. */
export async function changelogIdentity(brokers: string, topic: string): Promise<ChangelogIdentity> {
  const body = new WireWriter()
    .array([topic], (w, name) => w.push(Buffer.alloc(16)).compactString(name).tags())
    .int8(0) // allow_auto_topic_creation
    .int8(0) // include_topic_authorized_operations
    .tags()
    .bytes();
  let last: Error | undefined;
  for (const b of brokers
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const at = b.lastIndexOf(':');
    try {
      const r = await wireRequest(b.slice(0, at), Number(b.slice(at + 1)), METADATA, 12, body);
      r.int32(); // throttle_time_ms
      const brokerCount = r.uvarint() - 1;
      for (let i = 0; i < brokerCount; i++) {
        r.int32();
        r.compactString();
        r.int32();
        r.compactString();
        r.tags();
      }
      const clusterId = r.compactString() ?? '';
      r.int32(); // controller_id
      const topics = r.uvarint() - 1;
      for (let i = 0; i < topics; i++) {
        const error = r.int16();
        const name = r.compactString();
        const topicId = r.uuid().toString('hex');
        if (name === topic) {
          if (error !== 0) throw new Error(`metadata of ${topic}: error code ${error}`);
          return { clusterId, topicId };
        }
        throw new Error(`metadata answered for ${name}, not ${topic}`);
      }
      throw new Error(`metadata without ${topic}`);
    } catch (err) {
      last = err as Error;
    }
  }
  throw new Error(`could not ask the cluster and topic id of ${topic} at ${brokers}: ${last?.message ?? 'no broker given'}`);
}
