import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.ts';

describe('crc32c', () => {
  it('matches the published check value for "123456789"', () => {
    const b = Buffer.from('xx123456789yy');
    expect(crc32c(b, 2, 11)).toBe(0xe3069283);
  });

  it('matches the RFC 3720 B.4 vector of 32 zero bytes', () => {
    expect(crc32c(Buffer.alloc(32), 0, 32)).toBe(0x8a9136aa);
  });
});
