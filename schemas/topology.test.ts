import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { avroType, loadSchemas } from './avroSchemas.ts';
import { generateRecordTypes } from './codegen.ts';
import { TOPICS, partitionsOf, topicConfig } from './topology.ts';

describe('topic topology', () => {
  const schemas = loadSchemas();

  it('names an Avro schema that exists and parses for every topic', () => {
    for (const t of TOPICS) {
      const json = schemas.get(t.valueSchema);
      expect(json, `${t.name} → ${t.valueSchema}`).toBeDefined();
      expect(() => avroType(json!)).not.toThrow();
    }
  });

  it('co-partitions every subscriber-keyed topic', () => {
    const counts = new Set(TOPICS.filter((t) => t.key === 'subscriber').map((t) => partitionsOf(t, 17)));
    expect([...counts]).toEqual([17]);
  });

  it('compacts state topics and bounds retention of event topics', () => {
    for (const name of ['event-manager-presence-store-changelog', 'current-presence', 'groups', 'group-presence']) {
      expect(topicConfig(TOPICS.find((t) => t.name === name)!)['cleanup.policy']).toBe('compact');
    }
    for (const t of TOPICS.filter((x) => x.cleanupPolicy === 'delete')) expect(Number(topicConfig(t)['retention.ms'])).toBeGreaterThan(0);
  });

  it('uses timestamp logical types for time fields (Connect maps them to SQL timestamps)', () => {
    const presence = schemas.get('Presence')!;
    const updatedAt = (presence.fields as Array<{ name: string; type: unknown }>).find((f) => f.name === 'updatedAt')!;
    expect(updatedAt.type).toEqual({ type: 'long', logicalType: 'timestamp-millis' });
  });

  it('has generated record types that match the schemas (run `presence topics codegen` after editing schemas/avro)', () => {
    const onDisk = readFileSync(new URL('./generated/records.ts', import.meta.url), 'utf8');
    expect(onDisk).toBe(generateRecordTypes());
  });

  it('round-trips a record through its Avro type', () => {
    const type = avroType(schemas.get('DeliveryReport')!);
    const v = {
      notifyId: 'n1',
      presentity: 'msisdn:+1',
      callId: 'c',
      outcome: 'delivered',
      statusCode: 200,
      attempts: 1,
      reason: null,
      time: 1_700_000_000_000,
      transport: 'udp',
    };
    expect(type.fromBuffer(type.toBuffer(v))).toEqual(v);
    expect(type.isValid({ ...v, attempts: 'one' })).toBe(false);
    // transport was added with a default: a report written before it reads as null (BACKWARD compatible).
    const json = schemas.get('DeliveryReport')!;
    const before = avroType({
      ...json,
      fields: (json as unknown as { fields: Array<{ name: string }> }).fields.filter((f) => f.name !== 'transport'),
    } as typeof json);
    const { transport: _, ...old } = v;
    expect(type.fromBuffer(before.toBuffer(old), type.createResolver(before))).toEqual({ ...old, transport: null });
  });
});
