import { describe, it, expect } from 'vitest';
import { udp } from '../../../test/support/packetBuilder.ts';
import { decodeUdp } from './udp.ts';

describe('UDP', () => {
  it('bounds the payload by the UDP length, not trailing bytes', () => {
    const d = Buffer.concat([udp(5060, 5080, Buffer.from('OPTIONS')), Buffer.alloc(5)]);
    expect(decodeUdp(d, 0)).toEqual({ srcPort: 5060, dstPort: 5080, payloadOffset: 8, payloadEnd: 15 });
  });

  it.each([
    ['a length below 8', 7, 'malformed'],
    ['a length beyond the packet', 100, 'truncated'],
  ])('refuses %s', (_n, length, reason) => {
    const d = udp(1, 2, Buffer.from('x'));
    d.writeUInt16BE(length, 4);
    expect(() => decodeUdp(d, 0)).toThrow(expect.objectContaining({ layer: 'udp', reason }));
  });

  it('throws truncated on a short header', () => {
    expect(() => decodeUdp(Buffer.alloc(7), 0)).toThrow(expect.objectContaining({ layer: 'udp', reason: 'truncated' }));
  });
});
