// Who sent a SUBSCRIBE or PUBLISH (issue 13.1): the identity the front end
// acts on instead of a bare From. Two ways in:
// - from a trusted proxy (its address is listed): the identity it asserts in
//   P-Asserted-Identity (RFC 3325), as an IMS S-CSCF or a Kamailio in front
//   hands over users it authenticated; the header from anyone else is ignored;
// - digest authentication (RFC 3261 §22, SHA-256 and MD5) against the
//   credentials store, with stateless nonces any front end can verify.
// Mode `trusted-only` takes requests from trusted proxies only (403 else).
import { timingSafeEqual } from 'node:crypto';
import { parseNameAddr, type SipMessage } from '../protocols/decode/sip/index.ts';
import {
  DIGEST_ALGORITHMS,
  digestAlgorithmOf,
  digestChallenges,
  digestResponse,
  parseDigestCredentials,
  type DigestAlgorithm,
} from '../protocols/sip/auth/digest.ts';
import { ReplayWindow, type StatelessNonces } from '../protocols/sip/auth/statelessNonce.ts';
import type { SipHeaderLine } from '../protocols/sip/message/index.ts';
import type { MessageSource } from '../protocols/sip/transport/types.ts';
import type { TrustedProxies } from '../protocols/sip/transport/trustedProxies.ts';
import type { SipCredential } from '../subscriber/credentials/sipCredentials.ts';

export type SipAuthMode = 'off' | 'digest' | 'trusted-only';

export interface SipAuthOptions {
  readonly mode: Exclude<SipAuthMode, 'off'>;
  readonly realm: string;
  readonly nonces: StatelessNonces;
  readonly credentials: {
    lookup(username: string, realm: string): Promise<SipCredential | undefined>;
    /** Shared replay check (SipCredentials.claimNonceUse): needed with replayCheck 'shared'. */
    claimNonceUse?(nonce: string, nc: string, cnonce: string, validForMs: number): Promise<boolean>;
  };
  /**
   * Where replays are caught: 'instance' remembers the (nonce, nc, cnonce) this front end accepted
   * (in memory, no cost, but the same credentials replayed to another front end pass); 'shared'
   * also records each use in the credentials database, so a use anywhere is a replay everywhere.
   */
  readonly replayCheck?: 'instance' | 'shared';
  /** Proxies whose P-Asserted-Identity is believed: by address or network, or by their verified TLS certificate's name. */
  readonly trustedProxies: TrustedProxies;
  /** Offered in challenges, most preferred first (default SHA-256, MD5); only these are accepted. */
  readonly algorithms?: readonly DigestAlgorithm[];
}

export interface Refusal {
  readonly status: number;
  readonly headers: SipHeaderLine[];
  readonly reason?: string;
}

export type AuthOutcome = { readonly identity: string; readonly by: 'digest' | 'asserted' } | { readonly refuse: Refusal };

export class RequestAuthenticator {
  /** `outages`: requests answered 500 because the credentials store did not answer (counted by the front end). */
  readonly stats = { challenged: 0, stale: 0, digest: 0, asserted: 0, outages: 0, refused: {} as Record<string, number> };
  private readonly replays = new ReplayWindow();
  private readonly algorithms: readonly DigestAlgorithm[];

  constructor(private readonly o: SipAuthOptions) {
    if (o.replayCheck === 'shared' && !o.credentials.claimNonceUse) throw new Error('a shared replay check needs a credentials store that records nonce uses');
    this.algorithms = o.algorithms ?? DIGEST_ALGORITHMS;
  }

  statsLine(): string {
    const refused = Object.entries(this.stats.refused).map(([k, n]) => `${k} ${n}`);
    return `auth: challenged ${this.stats.challenged}, stale ${this.stats.stale}, digest ok ${this.stats.digest}, asserted ${this.stats.asserted}, store outages ${this.stats.outages}${refused.length ? `, refused ${refused.join(', ')}` : ''}`;
  }

  /** Whether a request from this source comes from a trusted proxy (its P-Asserted-Identity is believed): by address, or by its verified TLS certificate's name. */
  isTrusted(source: MessageSource): boolean {
    return this.o.trustedProxies.has(source);
  }

  async authenticate(request: SipMessage, source: MessageSource): Promise<AuthOutcome> {
    if (this.isTrusted(source)) {
      const asserted = assertedIdentity(request);
      if (asserted) {
        this.stats.asserted++;
        return { identity: asserted, by: 'asserted' };
      }
    }
    if (this.o.mode === 'trusted-only') return this.refuse('untrusted-source', 403, 'Forbidden (not from a trusted proxy)');
    const offered = request.headers
      .getAll('authorization')
      .map((v) => parseDigestCredentials(v))
      .find((p) => p?.['realm'] === this.o.realm);
    if (!offered) return this.challenge(false);
    const algorithm = digestAlgorithmOf(offered);
    const { username, nonce, uri, response } = offered;
    if (!algorithm || !this.algorithms.includes(algorithm) || !username || !nonce || !uri || !response) return this.challenge(false);
    // Only qop=auth, as challenged: an RFC 2069 answer (no qop, no nc/cnonce) could be replayed for the nonce's whole life.
    if (offered['qop'] !== 'auth') return this.refuseAnswer('no-qop');
    const fresh = this.o.nonces.check(nonce);
    if (fresh === 'invalid') return this.challenge(false);
    if (fresh === 'stale') return this.challenge(true);
    const [nc, cnonce] = [offered['nc'] ?? '', offered['cnonce'] ?? ''];
    const credential = await this.o.credentials.lookup(username, this.o.realm);
    if (!credential) return this.refuse('unknown-user', 403, 'Forbidden');
    const expected = digestResponse(algorithm, credential.ha1[algorithm], {
      method: request.method,
      uri,
      nonce,
      qop: 'auth',
      nc,
      cnonce,
    });
    const given = Buffer.from(response.toLowerCase());
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) return this.refuse('wrong-password', 403, 'Forbidden');
    if (!this.replays.firstUse(nonce, nc, cnonce)) return this.refuse('replayed', 403, 'Forbidden (replayed credentials)');
    // A store that does not answer throws: the front end's outage answer (500 + Retry-After), never an acceptance.
    if (this.o.replayCheck === 'shared' && !(await this.o.credentials.claimNonceUse!(nonce, nc, cnonce, this.o.nonces.lifetimeMs)))
      return this.refuse('replayed', 403, 'Forbidden (replayed credentials)');
    this.stats.digest++;
    return { identity: credential.identity, by: 'digest' };
  }

  private challenge(stale: boolean): AuthOutcome {
    if (stale) this.stats.stale++;
    else this.stats.challenged++;
    const nonce = this.o.nonces.issue();
    return {
      refuse: { status: 401, headers: digestChallenges(this.o.realm, nonce, stale, this.algorithms).map((c) => ['WWW-Authenticate', c] as SipHeaderLine) },
    };
  }

  /** A new challenge for an answer we do not take, counted by why. */
  private refuseAnswer(why: string): AuthOutcome {
    this.countRefused(why);
    return this.challenge(false);
  }

  private refuse(why: string, status: number, reason: string): AuthOutcome {
    this.countRefused(why);
    return { refuse: { status, headers: [], reason } };
  }

  private countRefused(why: string): void {
    this.stats.refused[why] = (this.stats.refused[why] ?? 0) + 1;
  }
}

/** The first sip:/sips:/tel: URI of P-Asserted-Identity (RFC 3325 §9.1: at most one of each). */
function assertedIdentity(request: SipMessage): string | undefined {
  for (const v of request.headers.list('p-asserted-identity')) {
    const uri = parseNameAddr(v)?.uri;
    if (uri && /^(sips?|tel):/i.test(uri)) return uri;
  }
  return undefined;
}
