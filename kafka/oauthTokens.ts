// OAUTHBEARER tokens for every Kafka client of ours, fetched from the token
// endpoint of `kafka.security.oauthbearer` (librdkafka's `sasl.oauthbearer.*`
// names, method `oidc`) with either grant librdkafka offers: client credentials
// (RFC 6749 §4.4, the default) or the JWT bearer grant (RFC 7523 §2.1: an
// assertion signed with the client's own key, jwtAssertion.ts). The
// node-rdkafka build here has no libcurl, so librdkafka cannot fetch them
// itself; kafkajs has no fetcher; the wire client neither. One fetcher per
// process and grant, its token cached until shortly before it expires, so
// every client connecting shares one token.
import type { KafkaSecurity } from '../config/settings.ts';
import { assertionFor, assertionSourceOf, type AssertionSource } from './jwtAssertion.ts';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The token endpoint refused the client (wrong id or secret, grant or scope not allowed): a configuration error, not retried. */
export class OAuthTokenRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OAuthTokenRefused';
  }
}

interface ClientCredentials {
  readonly grant: 'client_credentials';
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string | undefined;
}

interface JwtBearer {
  readonly grant: 'jwt-bearer';
  readonly tokenUrl: string;
  readonly scope: string | undefined;
  readonly assertion: AssertionSource;
  /** Client authentication beside the assertion (RFC 7523 §2.1 makes it optional): both, or neither. */
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
}

/** How tokens are asked for. */
export type TokenGrant = ClientCredentials | JwtBearer;

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

/** The grant settings of `kafka.security.oauthbearer`, checked: what is missing or unsupported is named. */
export function tokenGrantOf(s: KafkaSecurity): TokenGrant {
  const o = s.oauthbearer;
  const method = (o['sasl.oauthbearer.method'] ?? 'default').toLowerCase();
  if (method !== 'oidc') throw new Error(`OAUTHBEARER needs sasl.oauthbearer.method "oidc" (tokens from a token endpoint); got "${method}"`);
  const grant = o['sasl.oauthbearer.grant.type'] ?? 'client_credentials';
  if (grant !== 'client_credentials' && grant !== JWT_BEARER_GRANT)
    throw new Error(`OAUTHBEARER: sasl.oauthbearer.grant.type must be client_credentials or ${JWT_BEARER_GRANT}, not ${grant}`);
  const needs = grant === 'client_credentials' ? ['sasl.oauthbearer.client.id', 'sasl.oauthbearer.client.secret'] : [];
  const missing = ['sasl.oauthbearer.token.endpoint.url', ...needs].filter((k) => !o[k]);
  if (missing.length) throw new Error(`OAUTHBEARER oidc needs ${missing.join(', ')}`);
  const tokenUrl = o['sasl.oauthbearer.token.endpoint.url']!;
  const scope = o['sasl.oauthbearer.scope'];
  if (grant === 'client_credentials')
    return { grant, tokenUrl, clientId: o['sasl.oauthbearer.client.id']!, clientSecret: o['sasl.oauthbearer.client.secret']!, scope };
  const clientId = o['sasl.oauthbearer.client.id'];
  const clientSecret = o['sasl.oauthbearer.client.secret'];
  if ((clientId === undefined) !== (clientSecret === undefined))
    throw new Error('OAUTHBEARER jwt-bearer: sasl.oauthbearer.client.id and client.secret authenticate the client together: give both or neither');
  return { grant: 'jwt-bearer', tokenUrl, scope, assertion: assertionSourceOf(o), clientId, clientSecret };
}

/** Who asks, for messages: the client id, else the assertion's subject or issuer. */
function requester(g: TokenGrant): string {
  if (g.clientId !== undefined) return `client ${g.clientId}`;
  const claims = g.grant === 'jwt-bearer' && g.assertion.kind === 'signed' ? g.assertion.claims : undefined;
  return `the assertion of ${claims?.sub ?? claims?.iss ?? 'the assertion file'}`;
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
    readonly grant: TokenGrant,
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
    const c = this.grant;
    const form =
      c.grant === 'client_credentials'
        ? new URLSearchParams({ grant_type: 'client_credentials' })
        : new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: assertionFor(c.assertion, this.now()) });
    if (c.scope) form.set('scope', c.scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    // client_secret_basic (RFC 6749 §2.3.1): id and secret form-urlencoded before the Basic encoding.
    if (c.clientId !== undefined && c.clientSecret !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;
    let res: Response;
    try {
      res = await this.fetchImpl(c.tokenUrl, {
        method: 'POST',
        headers,
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
      throw new OAuthTokenRefused(`OAUTHBEARER token endpoint ${c.tokenUrl} refused ${requester(c)}: ${reason}`);
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

/** The process's token source for these settings' grant. */
export function tokenSourceFor(s: KafkaSecurity): OAuthTokenSource {
  // Keyed by the settings as given (the key file's path, not the key): the grant is built once per source.
  const key = JSON.stringify(Object.entries(s.oauthbearer).sort(([a], [b]) => a.localeCompare(b)));
  let src = sources.get(key);
  if (!src) {
    src = new OAuthTokenSource(tokenGrantOf(s));
    sources.set(key, src);
  }
  return src;
}

/** True when clients must present a bearer token we fetch. */
export function usesOAuthBearer(s: KafkaSecurity): boolean {
  return s.protocol.startsWith('SASL_') && s.saslMechanism === 'OAUTHBEARER';
}
