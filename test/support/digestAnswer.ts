// A handset's answer to a SIP digest challenge (RFC 3261 §22, RFC 8760), with
// our own maths: SHA-256 (or the challenge's MD5), qop=auth, counting its uses
// of the nonces (nc) as a handset does.
import { createHash } from 'node:crypto';
import { digestResponse, parseDigestCredentials } from '../../protocols/sip/auth/digest.ts';

let nonceCount = 0;

/** The Authorization header line answering `challenge` (a WWW-Authenticate value). */
export function digestAuthorization(challenge: string, o: { username: string; password: string; method: string; uri: string }): string {
  const p = parseDigestCredentials(challenge)!;
  const realm = p['realm']!;
  const algorithm = p['algorithm'] === 'MD5' ? 'MD5' : 'SHA-256';
  const ha1 = createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(`${o.username}:${realm}:${o.password}`)
    .digest('hex');
  const nc = (++nonceCount).toString(16).padStart(8, '0');
  const response = digestResponse(algorithm, ha1, { method: o.method, uri: o.uri, nonce: p['nonce']!, qop: 'auth', nc, cnonce: 'c0ffee' });
  return `Authorization: Digest username="${o.username}", realm="${realm}", nonce="${p['nonce']}", uri="${o.uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="c0ffee"`;
}
