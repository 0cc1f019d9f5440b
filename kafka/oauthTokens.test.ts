// The client-credentials token fetcher against the loopback token server:
// one request for many callers, a fresh token near expiry, a wrong secret
// refused by name (not retried as an outage), an endpoint that is down.
import { afterEach, describe, expect, it } from 'vitest';
import type { KafkaSecurity } from '../config/settings.ts';
import { PLAINTEXT } from './kafkaSecurity.ts';
import { clientCredentialsOf, OAuthTokenRefused, OAuthTokenSource } from './oauthTokens.ts';
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

const creds = (tokenUrl: string, clientSecret = 's3cret') => ({ tokenUrl, clientId: 'gw', clientSecret, scope: 'kafka' });

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

describe('clientCredentialsOf', () => {
  const sec = (o: Record<string, string>): KafkaSecurity => ({ ...PLAINTEXT, protocol: 'SASL_SSL', saslMechanism: 'OAUTHBEARER', oauthbearer: o });
  it('names what is missing or unsupported', () => {
    expect(() => clientCredentialsOf(sec({}))).toThrow(/method "oidc"/);
    expect(() => clientCredentialsOf(sec({ 'sasl.oauthbearer.method': 'oidc' }))).toThrow(
      /token.endpoint.url, sasl.oauthbearer.client.id, sasl.oauthbearer.client.secret/,
    );
    expect(() =>
      clientCredentialsOf(sec({ 'sasl.oauthbearer.method': 'oidc', 'sasl.oauthbearer.grant.type': 'urn:ietf:params:oauth:grant-type:jwt-bearer' })),
    ).toThrow(/only the client_credentials grant/);
  });
});
