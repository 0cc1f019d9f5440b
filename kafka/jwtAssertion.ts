// The client's JWT for the OAuth 2.0 JWT bearer grant (RFC 7523 §2.1, Kafka's
// KIP-1139, librdkafka's `sasl.oauthbearer.grant.type`
// urn:ietf:params:oauth:grant-type:jwt-bearer): signed with the client's own
// private key (RS256 or ES256) under librdkafka's `sasl.oauthbearer.assertion.*`
// settings, or read from a file another tool keeps fresh. A new one per token
// request: it is short-lived (exp.seconds, 300 by default) and may carry a jti
// the identity provider remembers.
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type AssertionAlgorithm = 'RS256' | 'ES256';

export interface AssertionClaims {
  readonly iss: string | undefined;
  readonly sub: string | undefined;
  readonly aud: string | undefined;
  /** exp = now + this. */
  readonly expSeconds: number;
  /** nbf = now - this. */
  readonly nbfSeconds: number;
  /** A random jti in each assertion. */
  readonly jti: boolean;
}

/** Where each request's assertion comes from. */
export type AssertionSource =
  | { readonly kind: 'file'; readonly file: string }
  | {
      readonly kind: 'signed';
      readonly key: KeyObject;
      readonly algorithm: AssertionAlgorithm;
      readonly claims: AssertionClaims;
      /** `assertion.jwt.template.file`: its `header` and `payload` objects, under ours. */
      readonly template: { header: Record<string, unknown>; payload: Record<string, unknown> };
    };

const SETTING = 'sasl.oauthbearer.assertion';

function seconds(o: Record<string, string>, name: string, fallback: number, min: number): number {
  const v = o[`${SETTING}.claim.${name}`];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min) throw new Error(`OAUTHBEARER: ${SETTING}.claim.${name} must be a whole number of seconds >= ${min}, not ${v}`);
  return n;
}

function templateOf(file: string | undefined): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  if (file === undefined) return { header: {}, payload: {} };
  let t: unknown;
  try {
    t = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`OAUTHBEARER: ${SETTING}.jwt.template.file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const obj = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  return { header: obj((t as { header?: unknown }).header), payload: obj((t as { payload?: unknown }).payload) };
}

/** The assertion settings of `kafka.security.oauthbearer`, checked: the key read and matched to the algorithm, what is missing named. */
export function assertionSourceOf(o: Record<string, string>): AssertionSource {
  const file = o[`${SETTING}.file`];
  const keyFile = o[`${SETTING}.private.key.file`];
  const keyPem = o[`${SETTING}.private.key.pem`];
  const given = [file, keyFile, keyPem].filter((v) => v !== undefined).length;
  if (given !== 1) throw new Error(`OAUTHBEARER jwt-bearer needs exactly one of ${SETTING}.file, ${SETTING}.private.key.file, ${SETTING}.private.key.pem`);
  if (file !== undefined) return { kind: 'file', file };
  const algorithm = (o[`${SETTING}.algorithm`] ?? 'RS256') as AssertionAlgorithm;
  if (algorithm !== 'RS256' && algorithm !== 'ES256') throw new Error(`OAUTHBEARER: ${SETTING}.algorithm must be RS256 or ES256, not ${String(algorithm)}`);
  const where = keyFile !== undefined ? `${SETTING}.private.key.file ${keyFile}` : `${SETTING}.private.key.pem`;
  let key: KeyObject;
  try {
    const pem = keyFile !== undefined ? readFileSync(keyFile) : keyPem!;
    const passphrase = o[`${SETTING}.private.key.passphrase`];
    key = createPrivateKey(passphrase !== undefined ? { key: pem, passphrase } : { key: pem });
  } catch (err) {
    // Never the passphrase or the key in the message.
    throw new Error(`OAUTHBEARER: ${where} could not be read as a private key (${(err as { code?: string }).code ?? 'invalid'})`, { cause: err });
  }
  const wanted = algorithm === 'RS256' ? 'rsa' : 'ec';
  if (key.asymmetricKeyType !== wanted || (wanted === 'ec' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'))
    throw new Error(`OAUTHBEARER: ${where} is a ${key.asymmetricKeyType} key; ${algorithm} needs ${wanted === 'rsa' ? 'an RSA key' : 'a P-256 EC key'}`);
  return {
    kind: 'signed',
    key,
    algorithm,
    claims: {
      iss: o[`${SETTING}.claim.iss`],
      sub: o[`${SETTING}.claim.sub`],
      aud: o[`${SETTING}.claim.aud`],
      expSeconds: seconds(o, 'exp.seconds', 300, 1),
      nbfSeconds: seconds(o, 'nbf.seconds', 60, 0),
      jti: (o[`${SETTING}.claim.jti.include`] ?? 'false').toLowerCase() === 'true',
    },
    template: templateOf(o[`${SETTING}.jwt.template.file`]),
  };
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

/** The assertion to send now: the file's content, or a compact JWS signed with the client's key. */
export function assertionFor(src: AssertionSource, nowMs: number): string {
  if (src.kind === 'file') {
    const jwt = readFileSync(src.file, 'utf8').trim();
    if (jwt.split('.').length !== 3) throw new Error(`OAUTHBEARER: ${SETTING}.file ${src.file} holds no compact JWT`);
    return jwt;
  }
  const now = Math.floor(nowMs / 1000);
  const c = src.claims;
  const payload = {
    ...src.template.payload,
    ...(c.iss !== undefined ? { iss: c.iss } : {}),
    ...(c.sub !== undefined ? { sub: c.sub } : {}),
    ...(c.aud !== undefined ? { aud: c.aud } : {}),
    iat: now,
    nbf: now - c.nbfSeconds,
    exp: now + c.expSeconds,
    ...(c.jti ? { jti: randomUUID() } : {}),
  };
  const input = `${b64url(JSON.stringify({ ...src.template.header, alg: src.algorithm, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  // ES256's signature is r||s (RFC 7518 §3.4), not DER.
  const sig =
    src.algorithm === 'RS256' ? sign('sha256', Buffer.from(input), src.key) : sign('sha256', Buffer.from(input), { key: src.key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}
