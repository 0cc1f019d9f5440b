// Which schema id a producer tags its records with, against the real Apicurio
// registry. During a rolling upgrade the subject holds the old and the new
// schema; a process still writing the old shape must tag the old id, or
// readers decode its bytes with the new schema.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSchemas } from '../../schemas/avroSchemas.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { valueSubject } from '../../schemas/topology.ts';
import { cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';

const s = isolatedSettings('schema-ids');
const other = isolatedSettings('schema-ids-unregistered');
const interrupted = isolatedSettings('schema-ids-interrupted');
afterAll(async () => {
  await cleanupIsolated(s);
  await cleanupIsolated(other);
  await cleanupIsolated(interrupted);
});

/** Our DeadLetter schema (v1) with one more optional field: what the next release would register (v2). */
function deadLetterV2(): string {
  const v1 = loadSchemas().get('DeadLetter')!;
  const fields = [...(v1.fields as unknown[]), { name: 'addedInV2', type: ['null', 'string'], default: null }];
  return JSON.stringify({ ...v1, fields });
}

const letter = { time: 0, component: 'test', layer: 'avro', reason: 'unknown', message: 'm', raw: Buffer.alloc(0), origin: null, context: {} };

describe('RecordSerde schema ids', () => {
  it('a producer writing v1 tags v1 id after v2 was registered under the same subject', async () => {
    const v1Ids = await new RecordSerde(s.registry.url, s.topics.prefix).registerAll();
    const subject = valueSubject(s.topics.prefix, 'dead-letters');
    const v1Id = v1Ids.get(subject)!;
    const { id: v2Id } = await new SchemaRegistry({ host: s.registry.url }).register({ type: SchemaType.AVRO, schema: deadLetterV2() }, { subject });
    expect(v2Id).not.toBe(v1Id);

    // An old process restarted mid-upgrade: it only looks ids up.
    const old = new RecordSerde(s.registry.url, s.topics.prefix);
    await old.loadIds();
    expect(old.schemaIdOf('dead-letters')).toBe(v1Id);
    expect(old.encode('dead-letters', letter).readUInt32BE(1)).toBe(v1Id);
  });

  it('refuses to start when the schema it writes is not registered under its subject, naming the subject', async () => {
    // Only a foreign shape under the subject: tagging its id would mislabel our records.
    const subject = valueSubject(other.topics.prefix, 'signaling-events');
    const foreign = { type: 'record', name: 'Foreign', namespace: 'it', fields: [{ name: 'a', type: 'string' }] };
    await new SchemaRegistry({ host: other.registry.url }).register({ type: SchemaType.AVRO, schema: JSON.stringify(foreign) }, { subject });
    const serde = new RecordSerde(other.registry.url, other.topics.prefix);
    await expect(serde.loadIds()).rejects.toThrow(new RegExp(`SignalingEvent is not registered under ${subject.replace(/\./g, '\\.')}.*presence topics apply`));
  });

  it('completes a first registration that was cut off before its compatibility was set', async () => {
    // Registering a new subject is two requests (POST the version, PUT its BACKWARD rule). When the
    // PUT times out (a loaded CI machine), the retry finds the subject without a rule of its own, and
    // Apicurio answers the global default (NONE) for it: the retry must set BACKWARD, not fail.
    const subject = valueSubject(interrupted.topics.prefix, 'event-manager-presence-store-changelog');
    const schema = JSON.stringify(loadSchemas().get('PresenceState'));
    await new SchemaRegistry({ host: interrupted.registry.url }).register({ type: SchemaType.AVRO, schema }, { subject, compatibility: undefined });
    const ids = await new RecordSerde(interrupted.registry.url, interrupted.topics.prefix).registerAll();
    expect(ids.get(subject)).toBeGreaterThan(0);
    const cfg = (await (await fetch(`${interrupted.registry.url}/config/${subject}`)).json()) as { compatibilityLevel: string };
    expect(cfg.compatibilityLevel).toBe('BACKWARD');
  });
});
