// Nonces any front end can verify without shared state or sticky routing:
// the issue time and a MAC of it (with the realm) under a secret the front
// ends share. A nonce past its lifetime but with a good MAC is stale (the
// client retries with a fresh one without asking its user, RFC 3261 §22.4,
// stale=true); a bad MAC or one from the future is invalid. A nonce alone
// cannot tell a replay: see ReplayWindow for what one instance can catch.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const MAC_BYTES = 16;

export type NonceCheck = 'valid' | 'stale' | 'invalid';

export class StatelessNonces {
  constructor(
    private readonly secret: Buffer,
    private readonly realm: string,
    readonly lifetimeMs = 300_000,
  ) {}

  /** Issue time, random salt (no two challenges share a nonce, so replays are told apart), MAC. */
  issue(now = Date.now()): string {
    const t = Math.floor(now / 1000).toString(36);
    const salt = randomBytes(6).toString('base64url');
    return `${t}.${salt}.${this.mac(t, salt).toString('base64url')}`;
  }

  check(nonce: string, now = Date.now()): NonceCheck {
    const [t, salt, mac, extra] = nonce.split('.');
    if (!t || !salt || !mac || extra !== undefined || !/^[0-9a-z]{1,10}$/.test(t)) return 'invalid';
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(t, salt))) return 'invalid';
    const age = now - parseInt(t, 36) * 1000;
    if (age < -30_000) return 'invalid'; // from the future beyond clock skew: not ours
    return age > this.lifetimeMs ? 'stale' : 'valid';
  }

  private mac(t: string, salt: string): Buffer {
    return createHmac('sha256', this.secret).update(`${t}\n${salt}\n${this.realm}`).digest().subarray(0, MAC_BYTES);
  }
}

/**
 * Remembers the (nonce, nc, cnonce) triples this instance accepted, so the
 * same credentials sent twice to it are refused (a replayed request). Another
 * front end cannot see them: a replay there within the nonce's lifetime is
 * not caught (the limit of stateless nonces; keep the lifetime short).
 * Bounded: the oldest entries go first.
 */
export class ReplayWindow {
  private readonly seen = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  /** True the first time a triple is offered; false for a repeat. */
  firstUse(nonce: string, nc: string, cnonce: string): boolean {
    const key = `${nonce}\n${nc}\n${cnonce}`;
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.max) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, Date.now());
    return true;
  }
}
