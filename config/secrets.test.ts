import { describe, expect, it } from 'vitest';
import { maskedUrl } from './secrets.ts';

describe('maskedUrl', () => {
  it("masks the user info's password and leaves the rest as it is", () => {
    expect(maskedUrl('postgres://presence:S3CRET@db.example.net:5432/presence?sslmode=require')).toBe(
      'postgres://presence:****@db.example.net:5432/presence?sslmode=require',
    );
    expect(maskedUrl('https://u:p%40ss@registry.example.net/apis')).toBe('https://u:****@registry.example.net/apis');
    for (const plain of ['postgres://presence@127.0.0.1:5432/presence', 'http://127.0.0.1:8081/apis/ccompat/v7', '127.0.0.1:9092', 'not a url'])
      expect(maskedUrl(plain)).toBe(plain);
  });
});
