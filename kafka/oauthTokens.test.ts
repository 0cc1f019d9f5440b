// The token fetcher against the loopback token server: one request for many
// callers, a fresh token near expiry, a wrong secret refused by name (not
// retried as an outage), an endpoint that is down; the JWT bearer grant with an
// assertion signed RS256 or ES256 from a key file (encrypted too), or read from
// a file, a foreign key refused by name.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { KafkaSecurity } from '../config/settings.ts';
import { PLAINTEXT } from './kafkaSecurity.ts';
import { assertionFor, assertionSourceOf } from './jwtAssertion.ts';
import { JWT_BEARER_GRANT, OAuthTokenRefused, OAuthTokenSource, tokenGrantOf } from './oauthTokens.ts';
import { startOidcTokenServer, type OidcTokenServer } from '../test/support/oidcTokenServer.ts';

const servers: OidcTokenServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(lifetimeSeconds = 3600): Promise<OidcTokenServer> {
  const s = await startOidcTokenServer({ clients: { gw: 's3cret' }, lifetimeSeconds });
  servers.push(s);
  return s;
}

const creds = (tokenUrl: string, clientSecret = 's3cret') => ({ grant: 'client_credentials' as const, tokenUrl, clientId: 'gw', clientSecret, scope: 'kafka' });
const sec = (o: Record<string, string>): KafkaSecurity => ({ ...PLAINTEXT, protocol: 'SASL_SSL', saslMechanism: 'OAUTHBEARER', oauthbearer: o });

describe('OAuthTokenSource', () => {
  it('fetches one token for concurrent callers and keeps it until near its expiry', async () => {
    const idp = await server(600);
    let now = Date.now();
    const src = new OAuthTokenSource(creds(idp.tokenUrl), fetch, () => now);
    const [a, b, c] = await Promise.all([src.token(), src.token(), src.token()]);
    expect(idp.issued).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(a.principal).toBe('gw');
    expect(a.expiresAt).toBeGreaterThan(now + 590_000);
    // 600 s tokens: renewed 60 s before they expire, not earlier.
    now = a.expiresAt - 61_000;
    expect(await src.token()).toBe(a);
    now = a.expiresAt - 59_000;
    await src.token();
    expect(idp.issued).toBe(2);
  });

  it('refuses a wrong client secret by name (OAuthTokenRefused), without the secret in the message', async () => {
    const idp = await server();
    const err = await new OAuthTokenSource(creds(idp.tokenUrl, 'wrong-secret-xyz')).token().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthTokenRefused);
    expect((err as Error).message).toMatch(/refused client gw: invalid_client: client authentication failed/);
    expect((err as Error).message).not.toContain('wrong-secret-xyz');
  });

  it('reports an endpoint that does not answer as an outage, not a refusal', async () => {
    const idp = await server();
    const url = idp.tokenUrl;
    await idp.close();
    servers.length = 0;
    const err = await new OAuthTokenSource(creds(url), fetch, Date.now, 2000).token().catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(OAuthTokenRefused);
    expect((err as Error).message).toMatch(/did not answer/);
  });
});

describe('the JWT bearer grant (RFC 7523)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwt-bearer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = (name: string, pem: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, pem);
    return f;
  };
  const rsaFile = keyFile('rsa.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const ecEncryptedFile = keyFile('ec.pem', ec.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'key pass' }) as string);
  const jwtBearer = (tokenUrl: string, more: Record<string, string>) =>
    sec({
      'sasl.oauthbearer.method': 'oidc',
      'sasl.oauthbearer.grant.type': JWT_BEARER_GRANT,
      'sasl.oauthbearer.token.endpoint.url': tokenUrl,
      'sasl.oauthbearer.scope': 'kafka',
      'sasl.oauthbearer.assertion.claim.iss': 'presence-gateway',
      'sasl.oauthbearer.assertion.claim.sub': 'gw-assertion',
      'sasl.oauthbearer.assertion.claim.aud': tokenUrl,
      ...more,
    });
  async function idp(): Promise<OidcTokenServer> {
    const s = await startOidcTokenServer({ clients: {}, assertionIssuers: { 'presence-gateway': rsa.publicKey, 'presence-gateway-ec': ec.publicKey } });
    servers.push(s);
    return s;
  }

  it('signs an RS256 assertion from a key file and gets a token for its subject', async () => {
    const server = await idp();
    const src = new OAuthTokenSource(
      tokenGrantOf(
        jwtBearer(server.tokenUrl, { 'sasl.oauthbearer.assertion.private.key.file': rsaFile, 'sasl.oauthbearer.assertion.claim.jti.include': 'true' }),
      ),
    );
    const t = await src.token();
    expect(t.principal).toBe('gw-assertion');
    expect(server.issued).toBe(1);
    const claims = server.assertions[0]!;
    expect(claims).toMatchObject({ iss: 'presence-gateway', sub: 'gw-assertion', aud: server.tokenUrl });
    // librdkafka's defaults: valid for 300 s, from 60 s back; a random jti when asked for.
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    expect((claims.iat as number) - (claims.nbf as number)).toBe(60);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('signs ES256 with an encrypted key and its passphrase', async () => {
    const server = await idp();
    const grant = tokenGrantOf(
      jwtBearer(server.tokenUrl, {
        'sasl.oauthbearer.assertion.algorithm': 'ES256',
        'sasl.oauthbearer.assertion.private.key.file': ecEncryptedFile,
        'sasl.oauthbearer.assertion.private.key.passphrase': 'key pass',
        'sasl.oauthbearer.assertion.claim.iss': 'presence-gateway-ec',
        'sasl.oauthbearer.assertion.claim.exp.seconds': '120',
      }),
    );
    expect((await new OAuthTokenSource(grant).token()).principal).toBe('gw-assertion');
    const claims = server.assertions[0]!;
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
  });

  it('sends the assertion a file holds, read again for each request', async () => {
    const server = await idp();
    const signer = assertionSourceOf({
      'sasl.oauthbearer.assertion.private.key.file': rsaFile,
      'sasl.oauthbearer.assertion.claim.iss': 'presence-gateway',
      'sasl.oauthbearer.assertion.claim.sub': 'from-file',
      'sasl.oauthbearer.assertion.claim.aud': server.tokenUrl,
    });
    const file = path.join(dir, 'assertion.jwt');
    writeFileSync(file, `${assertionFor(signer, Date.now())}\n`);
    const t = await new OAuthTokenSource(tokenGrantOf(jwtBearer(server.tokenUrl, { 'sasl.oauthbearer.assertion.file': file }))).token();
    expect(t.principal).toBe('from-file');
  });

  it('refuses by name an assertion signed with a key the provider does not hold', async () => {
    const server = await idp();
    const stranger = keyFile('stranger.pem', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const err = await new OAuthTokenSource(tokenGrantOf(jwtBearer(server.tokenUrl, { 'sasl.oauthbearer.assertion.private.key.file': stranger })))
      .token()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthTokenRefused);
    expect((err as Error).message).toMatch(/refused the assertion of gw-assertion: invalid_grant: assertion refused: bad signature/);
    expect(server.issued).toBe(0);
  });

  it('names a missing, doubled or mismatched key setting, never its secret', () => {
    const url = 'http://127.0.0.1:1/token';
    expect(() => tokenGrantOf(jwtBearer(url, {}))).toThrow(/exactly one of sasl.oauthbearer.assertion.file, .*private.key.file, .*private.key.pem/);
    expect(() =>
      tokenGrantOf(jwtBearer(url, { 'sasl.oauthbearer.assertion.private.key.file': rsaFile, 'sasl.oauthbearer.assertion.algorithm': 'ES256' })),
    ).toThrow(/is a rsa key; ES256 needs a P-256 EC key/);
    const wrong = () =>
      tokenGrantOf(
        jwtBearer(url, { 'sasl.oauthbearer.assertion.private.key.file': ecEncryptedFile, 'sasl.oauthbearer.assertion.private.key.passphrase': 'not-the-pass' }),
      );
    expect(wrong).toThrow(/could not be read as a private key/);
    expect(wrong).not.toThrow(/not-the-pass/);
    expect(() => tokenGrantOf(jwtBearer(url, { 'sasl.oauthbearer.assertion.private.key.file': rsaFile, 'sasl.oauthbearer.client.id': 'gw' }))).toThrow(
      /give both or neither/,
    );
  });
});

describe('tokenGrantOf', () => {
  it('names what is missing or unsupported', () => {
    expect(() => tokenGrantOf(sec({}))).toThrow(/method "oidc"/);
    expect(() => tokenGrantOf(sec({ 'sasl.oauthbearer.method': 'oidc' }))).toThrow(
      /token.endpoint.url, sasl.oauthbearer.client.id, sasl.oauthbearer.client.secret/,
    );
    expect(() => tokenGrantOf(sec({ 'sasl.oauthbearer.method': 'oidc', 'sasl.oauthbearer.grant.type': 'password' }))).toThrow(
      /grant.type must be client_credentials or urn:ietf:params:oauth:grant-type:jwt-bearer, not password/,
    );
  });
});
