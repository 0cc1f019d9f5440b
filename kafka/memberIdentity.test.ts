import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { WireReader, WireWriter } from './kafkaWire.ts';
import { checkMemberId, defaultMemberId, memberIdOf, memberIds } from './memberIdentity.ts';

describe('member identity', () => {
  it('derives the default from host, role and index, never from the pid', () => {
    expect(defaultMemberId('event-manager')).toBe(`${os.hostname()}-event-manager-1`);
    expect(defaultMemberId('notify-sink', 3)).toBe(`${os.hostname()}-notify-sink-3`);
    expect(defaultMemberId('event-manager')).not.toContain(String(process.pid));
    expect(() => defaultMemberId('event-manager', 0)).toThrow(/whole number >= 1/);
  });

  it('gives the static instance and the transactional id from one member id', () => {
    expect(memberIds('presence.', 'event-manager', 'em-1')).toEqual({
      clientId: 'event-manager-em-1',
      instanceId: 'em-1',
      transactionalId: 'presence.event-manager-em-1',
    });
  });

  it("takes the given member id, else the role's default at the given index", () => {
    expect(memberIdOf('tap-hep', 'hep-a')).toBe('hep-a');
    expect(memberIdOf('tap-hep', undefined, '2')).toBe(`${os.hostname()}-tap-hep-2`);
    expect(memberIdOf('event-deriver', undefined)).toBe(`${os.hostname()}-event-deriver-1`);
    expect(() => memberIdOf('tap-hep', undefined, 'x')).toThrow(/--member-index must be a whole number/);
    expect(() => memberIdOf('tap-hep', 'a b')).toThrow(/--member-id must be/);
  });

  it('refuses member ids Kafka ids should not carry', () => {
    expect(checkMemberId('em-1.host_a:2')).toBe('em-1.host_a:2');
    expect(() => checkMemberId('em 1')).toThrow(/--member-id must be/);
    expect(() => checkMemberId('')).toThrow(/--member-id must be/);
  });
});

describe('Kafka wire encoding (flexible versions)', () => {
  it('round-trips compact strings, arrays, varints and tagged fields', () => {
    const long = 'x'.repeat(300); // length + 1 needs a two-byte varint
    const b = new WireWriter()
      .int16(-2)
      .int32(70000)
      .compactString(long)
      .compactString(null)
      .array([1, 2, 3], (w, n) => w.int32(n))
      .tags()
      .bytes();
    const r = new WireReader(b);
    expect(r.int16()).toBe(-2);
    expect(r.int32()).toBe(70000);
    expect(r.compactString()).toBe(long);
    expect(r.compactString()).toBeNull();
    expect(r.array(() => r.int32())).toEqual([1, 2, 3]);
    r.tags();
    expect(() => r.int8()).toThrow(/truncated Kafka response/);
  });

  it('skips tagged fields it does not read', () => {
    const b = new WireWriter()
      .uvarint(1)
      .uvarint(0)
      .uvarint(2)
      .push(Buffer.from([9, 9]))
      .int8(5)
      .bytes();
    const r = new WireReader(b);
    r.tags();
    expect(r.int8()).toBe(5);
  });
});
