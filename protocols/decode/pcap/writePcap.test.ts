import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter } from './writePcap.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'pcapw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PcapWriter', () => {
  // The generator's writer: one buffer, few writes, frames cut to the snap length.
  it('writes the global header and microsecond records', () => {
    const f = path.join(dir, 'us.pcap');
    const w = new PcapWriter(f, { linkType: 1, snapLength: 65535 });
    w.write(1_767_225_600, 123_456_789, Buffer.from([1, 2, 3]));
    w.writeNs(1_767_225_601_000_000_999n, Buffer.from([4]));
    w.close();
    const b = readFileSync(f);
    expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect([b.readUInt16LE(4), b.readUInt16LE(6), b.readUInt32LE(16), b.readUInt32LE(20)]).toEqual([2, 4, 65535, 1]);
    expect([b.readUInt32LE(24), b.readUInt32LE(28), b.readUInt32LE(32), b.readUInt32LE(36)]).toEqual([1_767_225_600, 123_456, 3, 3]);
    expect([...b.subarray(40, 43)]).toEqual([1, 2, 3]);
    expect([b.readUInt32LE(43), b.readUInt32LE(47), b.readUInt32LE(51)]).toEqual([1_767_225_601, 0, 1]);
    expect(b.length).toBe(24 + 16 + 3 + 16 + 1);
    expect([w.packets, w.bytes]).toEqual([2, 4]);
  });

  it('uses the nanosecond magic and keeps nanoseconds', () => {
    const f = path.join(dir, 'ns.pcap');
    const w = new PcapWriter(f, { linkType: 1, nanosecond: true });
    w.write(10, 999_999_999, Buffer.from([9]));
    w.close();
    const b = readFileSync(f);
    expect(b.readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(b.readUInt32LE(28)).toBe(999_999_999);
  });

  it('flushes across its buffer and truncates to snaplen', () => {
    const f = path.join(dir, 'many.pcap');
    const w = new PcapWriter(f, { linkType: 1, bufferBytes: 1 << 17, snapLength: 100 });
    const frame = Buffer.alloc(300, 7);
    for (let i = 0; i < 2000; i++) w.write(i, 0, frame);
    w.close();
    const b = readFileSync(f);
    expect(b.length).toBe(24 + 2000 * (16 + 100));
    const last = 24 + 1999 * 116;
    expect([b.readUInt32LE(last), b.readUInt32LE(last + 8), b.readUInt32LE(last + 12)]).toEqual([1999, 100, 300]);
  });
});
