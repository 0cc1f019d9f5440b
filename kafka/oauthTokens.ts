// OAUTHBEARER tokens for every Kafka client of ours, fetched with the OAuth 2.0
// client-credentials grant (RFC 6749 §4.4) from the token endpoint of
// `kafka.security.oauthbearer` (librdkafka's `sasl.oauthbearer.*` names,
// method `oidc`). The node-rdkafka build here has no libcurl, so librdkafka
// cannot fetch them itself; kafkajs has no fetcher; the wire client neither.
// One fetcher per process and credentials, its token cached until shortly
// before it expires, so every client connecting shares one token.
import type { KafkaSecurity } from '../config/settings.ts';

/** The token endpoint refused the client (wrong id or secret, grant or scope not allowed): a configuration error, not retried. */
export class OAuthTokenRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OAuthTokenRefused';
  }
}

export interface ClientCredentials {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string | undefined;
}

export interface BearerToken {
  /** The access token (a JWT for Kafka's validator). */
  readonly value: string;
  /** Epoch ms after which the broker refuses it. */
  readonly expiresAt: number;
  /** Epoch ms it was fetched. */
  readonly fetchedAt: number;
  /** The JWT's `sub`, for log lines; '' when the token is not a JWT. */
  readonly principal: string;
}

/** The client-credentials settings of `kafka.security.oauthbearer`, checked: what is missing or unsupported is named. */
export function clientCredentialsOf(s: KafkaSecurity): ClientCredentials {
  const o = s.oauthbearer;
  const method = (o['sasl.oauthbearer.method'] ?? 'default').toLowerCase();
  if (method !== 'oidc') throw new Error(`OAUTHBEARER needs sasl.oauthbearer.method "oidc" (client credentials from a token endpoint); got "${method}"`);
  const grant = o['sasl.oauthbearer.grant.type'] ?? 'client_credentials';
  if (grant !== 'client_credentials') throw new Error(`OAUTHBEARER: only the client_credentials grant is fetched here, not ${grant}`);
  const missing = ['sasl.oauthbearer.token.endpoint.url', 'sasl.oauthbearer.client.id', 'sasl.oauthbearer.client.secret'].filter((k) => !o[k]);
  if (missing.length) throw new Error(`OAUTHBEARER oidc needs ${missing.join(', ')}`);
  return {
    tokenUrl: o['sasl.oauthbearer.token.endpoint.url']!,
    clientId: o['sasl.oauthbearer.client.id']!,
    clientSecret: o['sasl.oauthbearer.client.secret']!,
    scope: o['sasl.oauthbearer.scope'],
  };
}

/** The JWT's claims, or undefined when the token is opaque. */
function jwtClaims(token: string): { exp?: unknown; sub?: unknown } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown; sub?: unknown };
  } catch {
    return undefined;
  }
}

/** Fetches and caches tokens for one client; concurrent callers share one request. */
export class OAuthTokenSource {
  private cached: BearerToken | undefined;
  private inFlight: Promise<BearerToken> | undefined;

  constructor(
    readonly credentials: ClientCredentials,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly now: () => number = Date.now,
    private readonly timeoutMs = 10_000,
  ) {}

  /** A token valid for a while yet: the cached one until 80% of its life (at most 60 s before expiry), then a fresh one. */
  async token(): Promise<BearerToken> {
    if (this.cached && this.now() < this.refreshAt(this.cached)) return this.cached;
    this.inFlight ??= this.fetchToken().finally(() => (this.inFlight = undefined));
    this.cached = await this.inFlight;
    return this.cached;
  }

  /** When a holder of this token should fetch the next one. */
  refreshAt(t: BearerToken): number {
    return t.expiresAt - Math.min(60_000, Math.max(1_000, (t.expiresAt - t.fetchedAt) * 0.2));
  }

  private async fetchToken(): Promise<BearerToken> {
    const c = this.credentials;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (c.scope) form.set('scope', c.scope);
    // client_secret_basic (RFC 6749 §2.3.1): id and secret form-urlencoded before the Basic encoding.
    const basic = Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64');
    let res: Response;
    try {
      res = await this.fetchImpl(c.tokenUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // Unreachable or slow: an outage, which callers retry.
      throw new Error(`OAUTHBEARER token endpoint ${c.tokenUrl} did not answer: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // An error page: its status says enough.
    }
    if (res.status >= 400 && res.status < 500) {
      const reason = [body.error, body.error_description].filter((v) => typeof v === 'string').join(': ') || `HTTP ${res.status}`;
      throw new OAuthTokenRefused(`OAUTHBEARER token endpoint ${c.tokenUrl} refused client ${c.clientId}: ${reason}`);
    }
    if (!res.ok) throw new Error(`OAUTHBEARER token endpoint ${c.tokenUrl} answered HTTP ${res.status}`);
    const value = body.access_token;
    if (typeof value !== 'string' || !value) throw new Error(`OAUTHBEARER token endpoint ${c.tokenUrl} answered without an access_token`);
    const claims = jwtClaims(value);
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
    const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : undefined;
    // The JWT's own exp is what the broker checks; expires_in is the fallback for opaque tokens; else an hour.
    const expiresAt = exp ?? (expiresIn !== undefined ? this.now() + expiresIn * 1000 : this.now() + 3_600_000);
    return { value, expiresAt, fetchedAt: this.now(), principal: typeof claims?.sub === 'string' ? claims.sub : '' };
  }
}

const sources = new Map<string, OAuthTokenSource>();

/** The process's token source for these settings' credentials. */
export function tokenSourceFor(s: KafkaSecurity): OAuthTokenSource {
  const c = clientCredentialsOf(s);
  const key = JSON.stringify([c.tokenUrl, c.clientId, c.clientSecret, c.scope]);
  let src = sources.get(key);
  if (!src) {
    src = new OAuthTokenSource(c);
    sources.set(key, src);
  }
  return src;
}

/** True when clients must present a bearer token we fetch. */
export function usesOAuthBearer(s: KafkaSecurity): boolean {
  return s.protocol.startsWith('SASL_') && s.saslMechanism === 'OAUTHBEARER';
}
