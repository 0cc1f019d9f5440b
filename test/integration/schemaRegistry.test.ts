// @kafkajs/confluent-schema-registry against the real Apicurio Registry's
// Confluent API: register, look up, encode/decode, and BACKWARD compatibility
// enforced on evolution.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';

const s = loadSettings();
const subject = `it-registry-${Date.now().toString(36)}-value`;
const v1 = { type: 'record', name: 'Probe', namespace: 'it', fields: [{ name: 'a', type: 'string' }] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'b', type: ['null', 'int'], default: null }] };
const incompatible = { ...v1, fields: [...v1.fields, { name: 'c', type: 'int' }] };

afterAll(async () => {
  await fetch(`${s.registry.url}/subjects/${subject}`, { method: 'DELETE' }).catch(() => {});
  await fetch(`${s.registry.url}/subjects/${subject}?permanent=true`, { method: 'DELETE' }).catch(() => {});
});

describe('schema registry (Apicurio, Confluent API)', () => {
  it('registers, looks up by subject and id, and decodes with a fresh client', async () => {
    const writer = new SchemaRegistry({ host: s.registry.url });
    const { id } = await writer.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    expect(id).toBeGreaterThan(0);
    // Same schema again: same id (idempotent registration).
    expect((await writer.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject })).id).toBe(id);

    const buf = await writer.encode(id, { a: 'hello' });
    expect(buf[0]).toBe(0);
    expect(buf.readUInt32BE(1)).toBe(id);

    const reader = new SchemaRegistry({ host: s.registry.url });
    expect(await reader.getLatestSchemaId(subject)).toBe(id);
    expect(await reader.decode(buf)).toEqual({ a: 'hello' });
    const cfg = (await (await fetch(`${s.registry.url}/config/${subject}`)).json()) as { compatibilityLevel: string };
    expect(cfg.compatibilityLevel).toBe('BACKWARD');
  });

  it('accepts a backward-compatible evolution and rejects an incompatible one', async () => {
    const r = new SchemaRegistry({ host: s.registry.url });
    const { id: id2 } = await r.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject });
    expect(await r.getLatestSchemaId(subject)).toBe(id2);
    await expect(r.register({ type: SchemaType.AVRO, schema: JSON.stringify(incompatible) }, { subject })).rejects.toThrow(/409|compatib/i);
  });
});
