// A record written by a newer release: its value schema gains a field, is
// registered under the topic's subject, and the record is encoded with the new
// id — so decoding it needs the registry (what the outage tests cut).
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { avroType, loadSchemas } from '../../schemas/avroSchemas.ts';
import type { RecordSerde } from '../../schemas/serde.ts';
import { valueSubject } from '../../schemas/topology.ts';

export async function evolvedRecord(serde: RecordSerde, prefix: string, topic: string, schemaName: string, record: object): Promise<Buffer> {
  const json = loadSchemas().get(schemaName) as unknown as { fields: unknown[] };
  const evolved = { ...json, fields: [...json.fields, { name: 'note', type: ['null', 'string'], default: null }] };
  const { id } = await serde.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(evolved) }, { subject: valueSubject(prefix, topic) });
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, avroType(evolved as never).toBuffer({ ...record, note: 'v2' })]);
}
