// SIP digest authentication (RFC 3261 §22.4 with RFC 7616's algorithms, as
// RFC 8760 brings SHA-256 to SIP; MD5 stays for old handsets): the maths,
// the Authorization header's parameters and the WWW-Authenticate challenge.
// Only qop=auth is offered (auth-int would need the body in the hash, and
// no handset we know uses it for SUBSCRIBE or PUBLISH).
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Algorithms offered in a challenge, most preferred first (RFC 8760 §2.4: one challenge each). */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

const hashName = (a: DigestAlgorithm) => (a === 'MD5' ? 'md5' : 'sha256');
const h = (a: DigestAlgorithm, text: string) => createHash(hashName(a)).update(text, 'utf8').digest('hex');

/** H(username:realm:password): what the credentials store keeps instead of the password. */
export function digestHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return h(algorithm, `${username}:${realm}:${password}`);
}

/** The request-digest a client with this HA1 sends for qop=auth (or without qop, RFC 2069 style). */
export function digestResponse(
  algorithm: DigestAlgorithm,
  ha1: string,
  p: { readonly method: string; readonly uri: string; readonly nonce: string; readonly qop?: string; readonly nc?: string; readonly cnonce?: string },
): string {
  const ha2 = h(algorithm, `${p.method}:${p.uri}`);
  return p.qop ? h(algorithm, `${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`) : h(algorithm, `${ha1}:${p.nonce}:${ha2}`);
}

/** The parameters of a Digest Authorization / Proxy-Authorization value; undefined when it is not Digest. */
export function parseDigestCredentials(value: string): Readonly<Record<string, string>> | undefined {
  const m = /^\s*Digest\s+/i.exec(value);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*(?:,|$)/gy;
  re.lastIndex = m[0].length;
  let p: RegExpExecArray | null;
  while (re.lastIndex < value.length && (p = re.exec(value))) {
    out[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return re.lastIndex === 0 && Object.keys(out).length === 0 ? undefined : out;
}

/** The algorithm a credentials value names (absent means MD5, RFC 7616 §3.4); undefined for one we do not take. */
export function digestAlgorithmOf(params: Readonly<Record<string, string>>): DigestAlgorithm | undefined {
  const a = (params['algorithm'] ?? 'MD5').toUpperCase();
  return a === 'MD5' || a === 'SHA-256' ? a : undefined;
}

/** One WWW-Authenticate value per algorithm, most preferred first. */
export function digestChallenges(realm: string, nonce: string, stale: boolean, algorithms: readonly DigestAlgorithm[] = DIGEST_ALGORITHMS): string[] {
  return algorithms.map((a) => `Digest realm="${realm}", nonce="${nonce}", algorithm=${a}, qop="auth"${stale ? ', stale=true' : ''}`);
}
