import { describe, expect, it } from 'vitest';
import { digestAlgorithmOf, digestChallenges, digestHa1, digestResponse, parseDigestCredentials } from './digest.ts';
import { ReplayWindow, StatelessNonces } from './statelessNonce.ts';

describe('digest maths: RFC 7616 §3.9.1 examples', () => {
  const p = {
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth',
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  it('MD5', () => {
    expect(digestResponse('MD5', digestHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life'), p)).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });
  it('SHA-256', () => {
    expect(digestResponse('SHA-256', digestHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life'), p)).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });
  it('RFC 2617 §3.5 (qop=auth, MD5)', () => {
    const ha1 = digestHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    expect(
      digestResponse('MD5', ha1, {
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });
});

describe('Authorization values and challenges', () => {
  it('parses quoted and token parameters, escapes, any order; refuses other schemes', () => {
    const v = parseDigestCredentials(
      'Digest username="alice", realm="ims.example.net",nonce="abc.def", uri="sip:ims.example.net", response="0123", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x\\"y"',
    );
    expect(v).toMatchObject({
      username: 'alice',
      realm: 'ims.example.net',
      nonce: 'abc.def',
      uri: 'sip:ims.example.net',
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'x"y',
    });
    expect(digestAlgorithmOf(v!)).toBe('SHA-256');
    expect(digestAlgorithmOf({})).toBe('MD5');
    expect(digestAlgorithmOf({ algorithm: 'SHA-512-256' })).toBeUndefined();
    expect(parseDigestCredentials('Basic YTpi')).toBeUndefined();
  });
  it('offers SHA-256 then MD5, stale when asked', () => {
    expect(digestChallenges('r', 'n', true)).toEqual([
      'Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth", stale=true',
      'Digest realm="r", nonce="n", algorithm=MD5, qop="auth", stale=true',
    ]);
  });
});

describe('stateless nonces', () => {
  const a = new StatelessNonces(Buffer.from('shared'), 'ims.example.net', 60_000);
  const b = new StatelessNonces(Buffer.from('shared'), 'ims.example.net', 60_000);
  it('any instance with the secret verifies; past the lifetime stale; forged, other realm or secret invalid', () => {
    const n = a.issue(1_000_000_000_000);
    expect(b.check(n, 1_000_000_030_000)).toBe('valid');
    expect(b.check(n, 1_000_000_061_000)).toBe('stale');
    expect(new StatelessNonces(Buffer.from('other'), 'ims.example.net').check(n, 1_000_000_000_000)).toBe('invalid');
    expect(new StatelessNonces(Buffer.from('shared'), 'elsewhere').check(n, 1_000_000_000_000)).toBe('invalid');
    const [issued, salt] = n.split('.');
    expect(b.check(`${issued}.${salt}.AAAAAAAAAAAAAAAAAAAAAA`, 1_000_000_000_000)).toBe('invalid');
    expect(b.check(`${issued}.other.${n.split('.')[2]}`, 1_000_000_000_000)).toBe('invalid');
    expect(a.issue(1_000_000_000_000)).not.toBe(n); // salted: two challenges in one second differ
    expect(b.check('garbage', 0)).toBe('invalid');
    expect(b.check(n, 999_999_000_000)).toBe('invalid'); // issued 1000 s in the future
  });
  it('a replay window refuses the same (nonce, nc, cnonce) twice and stays bounded', () => {
    const w = new ReplayWindow(2);
    expect(w.firstUse('n', '1', 'c')).toBe(true);
    expect(w.firstUse('n', '1', 'c')).toBe(false);
    expect(w.firstUse('n', '2', 'c')).toBe(true);
    expect(w.firstUse('n', '3', 'c')).toBe(true);
    expect(w.firstUse('n', '1', 'c')).toBe(true); // forgotten: the oldest went first
  });
});
