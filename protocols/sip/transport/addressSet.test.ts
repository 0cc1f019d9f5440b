import { describe, expect, it } from 'vitest';
import { AddressSet } from './addressSet.ts';

describe('address set', () => {
  const set = new AddressSet(['10.1.0.0/16', '192.0.2.7', '2001:db8::/32', '::1']);

  it('matches single addresses and whole networks, IPv4 and IPv6', () => {
    expect(['10.1.2.3', '10.1.255.255', '192.0.2.7', '2001:db8:5::1', '::1'].map((a) => set.has(a))).toEqual([true, true, true, true, true]);
    expect(['10.2.0.1', '192.0.2.8', '2001:db9::1', '::2', 'not-an-ip'].map((a) => set.has(a))).toEqual([false, false, false, false, false]);
  });

  it('matches an IPv4 peer seen on a dual-stack socket by its IPv4 entry', () => {
    expect(set.has('::ffff:10.1.9.9')).toBe(true);
    expect(set.has('::ffff:10.9.9.9')).toBe(false);
  });

  it('refuses entries that are neither, naming the setting', () => {
    expect(() => new AddressSet(['proxy.example.com'], 'PRESENCE_SIP_TRUSTED_PROXIES')).toThrow(
      /PRESENCE_SIP_TRUSTED_PROXIES: "proxy.example.com" is not an IP address/,
    );
    expect(() => new AddressSet(['10.0.0.0/33'], 'X')).toThrow(/no valid prefix length \(0-32\)/);
    expect(() => new AddressSet(['10.0.0.0/x'], 'X')).toThrow(/no valid prefix length/);
  });

  it('is empty when nothing is listed', () => {
    expect(new AddressSet([]).has('127.0.0.1')).toBe(false);
  });
});
