import { describe, expect, it } from 'vitest';
import { ScramClient } from './kafkaScram.ts';

describe('ScramClient', () => {
  // RFC 7677 §3: user "user", password "pencil".
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';

  it('computes RFC 7677 test vector messages for SCRAM-SHA-256', () => {
    const c = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(c.first()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(c.final(serverFirst)).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(() => c.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
  });

  it('refuses a server signature made with another password', () => {
    const c = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    c.final(serverFirst);
    const forged = new ScramClient('SCRAM-SHA-256', 'user', 'crayon', 'rOprNGfwEbeRWgbNEkqO');
    forged.final(serverFirst);
    expect(() => c.verify('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toThrow(/server signature does not verify/);
  });

  it('refuses a server nonce that does not extend the client nonce, too few iterations, and a server error', () => {
    const c = new ScramClient('SCRAM-SHA-512', 'user', 'pencil', 'abc');
    expect(() => c.final('r=xyz123,s=c2FsdA==,i=4096')).toThrow(/nonce/);
    expect(() => c.final('r=abc123,s=c2FsdA==,i=1')).toThrow(/iterations/);
    expect(() => c.final('e=unknown-user')).toThrow(/refused: unknown-user/);
    expect(() => c.verify('e=invalid-proof')).toThrow(/refused: invalid-proof/);
  });

  it('escapes = and , in the username and makes a 64-byte proof for SCRAM-SHA-512', () => {
    const c = new ScramClient('SCRAM-SHA-512', 'a=b,c', 'pw', 'n0nce');
    expect(c.first()).toBe('n,,n=a=3Db=2Cc,r=n0nce');
    const final = c.final('r=n0nceSERVER,s=c2FsdA==,i=4096');
    expect(Buffer.from(final.split(',p=')[1]!, 'base64')).toHaveLength(64);
  });
});
