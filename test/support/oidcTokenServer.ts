// A small OAuth 2.0 / OIDC token server on loopback for the OAUTHBEARER tests:
// a `/token` endpoint for the client-credentials grant (RFC 6749 §4.4,
// client_secret_basic or form parameters) and the JWT bearer grant (RFC 7523
// §2.1: the client's assertion verified with the public key registered for its
// issuer, its audience, expiry and not-before checked), issuing JWTs signed
// RS256 or ES256 with a key made at start, and the key set at `/jwks` (RFC
// 7517) for the broker to verify them.
import { createHash, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OidcTokenServer {
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly issuer: string;
  /** Tokens issued so far (to check clients cache them). */
  readonly issued: number;
  /** Requests refused for bad client credentials or a bad assertion. */
  readonly refused: number;
  /** The claims of the assertions accepted (JWT bearer grant), in order. */
  readonly assertions: ReadonlyArray<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface OidcTokenServerOptions {
  readonly clients: Readonly<Record<string, string>>;
  readonly algorithm?: 'RS256' | 'ES256';
  readonly audience?: string;
  readonly lifetimeSeconds?: number;
  readonly port?: number;
  /** The `iss` claim; default the server's own base URL. */
  readonly issuer?: string;
  /** JWT bearer grant: the public key of each assertion issuer it trusts. */
  readonly assertionIssuers?: Readonly<Record<string, KeyObject>>;
  /** The `aud` an assertion must carry; default the token endpoint's URL (RFC 7523 §3 item 3). */
  readonly assertionAudience?: string;
}

/** Why an RFC 7523 assertion is refused, or its claims. */
function checkAssertion(jwt: string, issuers: Readonly<Record<string, KeyObject>>, audience: string): { claims: Record<string, unknown> } | { why: string } {
  const [h, p, s] = jwt.split('.');
  if (!h || !p || s === undefined) return { why: 'not a compact JWS' };
  let header: { alg?: unknown };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown };
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { why: 'undecodable' };
  }
  const key = typeof claims.iss === 'string' ? issuers[claims.iss] : undefined;
  if (!key) return { why: `unknown issuer ${String(claims.iss)}` };
  const input = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const ok =
    header.alg === 'RS256'
      ? verify('sha256', input, key, sig)
      : header.alg === 'ES256'
        ? verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig)
        : false;
  if (!ok) return { why: 'bad signature' };
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== audience) return { why: `audience ${String(claims.aud)}` };
  if (typeof claims.exp !== 'number' || claims.exp <= now) return { why: 'expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > now) return { why: 'not yet valid' };
  if (typeof claims.sub !== 'string') return { why: 'no subject' };
  return { claims };
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

/** A compact JWS: header.payload.signature (RFC 7515), ES256's signature as r||s (RFC 7518 §3.4). */
function signJwt(key: KeyObject, alg: 'RS256' | 'ES256', kid: string, claims: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
  const sig = alg === 'RS256' ? sign('sha256', Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

/** The client credentials of a token request: HTTP Basic (form-urlencoded id and secret, RFC 6749 §2.3.1) or form fields. */
function clientOf(req: http.IncomingMessage, form: URLSearchParams): { id: string; secret: string } | undefined {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return undefined;
    return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  return id !== null && secret !== null ? { id, secret } : undefined;
}

export async function startOidcTokenServer(o: OidcTokenServerOptions): Promise<OidcTokenServer> {
  const alg = o.algorithm ?? 'RS256';
  const { privateKey, publicKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 16);
  const lifetime = o.lifetimeSeconds ?? 3600;
  let issued = 0;
  let refused = 0;
  let issuer = '';
  let tokenUrl = '';
  const assertions: Array<Record<string, unknown>> = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/jwks') return json(200, { keys: [{ ...jwk, kid, alg, use: 'sig' }] });
      if (req.method !== 'POST' || url.pathname !== '/token') return json(404, { error: 'not_found' });
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const grant = form.get('grant_type');
      let subject: string;
      if (grant === 'client_credentials') {
        const client = clientOf(req, form);
        if (!client || o.clients[client.id] === undefined || o.clients[client.id] !== client.secret) {
          refused++;
          res.setHeader('www-authenticate', 'Basic realm="token"');
          return json(401, { error: 'invalid_client', error_description: 'client authentication failed' });
        }
        subject = client.id;
      } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && o.assertionIssuers) {
        const checked = checkAssertion(form.get('assertion') ?? '', o.assertionIssuers, o.assertionAudience ?? tokenUrl);
        if ('why' in checked) {
          refused++;
          return json(400, { error: 'invalid_grant', error_description: `assertion refused: ${checked.why}` });
        }
        assertions.push(checked.claims);
        subject = checked.claims.sub as string;
      } else return json(400, { error: 'unsupported_grant_type' });
      const now = Math.floor(Date.now() / 1000);
      const scope = form.get('scope') ?? undefined;
      const token = signJwt(privateKey, alg, kid, {
        iss: issuer,
        sub: subject,
        aud: o.audience ?? 'kafka',
        iat: now,
        nbf: now,
        exp: now + lifetime,
        ...(scope ? { scope } : {}),
      });
      issued++;
      json(200, { access_token: token, token_type: 'Bearer', expires_in: lifetime, ...(scope ? { scope } : {}) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', resolve);
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = o.issuer ?? base;
  tokenUrl = `${base}/token`;
  return {
    tokenUrl,
    assertions,
    jwksUrl: `${base}/jwks`,
    issuer,
    get issued() {
      return issued;
    },
    get refused() {
      return refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
