// The console's login for its management actions. The page's live views use
// EventSource, which cannot send an Authorization header, and a bearer token
// kept in page JavaScript would be readable by any script on the page. So a
// token with the management scope is presented once (POST /api/session,
// Authorization: Bearer …) and exchanged for a random session id in an
// HttpOnly, SameSite=Strict cookie: scripts cannot read it, other sites cannot
// make the browser send it, and it expires. Sessions live in memory only: a
// console restart logs everyone out, which is the safe side.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { AccessRefused, type BearerTokens, type HttpClient } from '../../protocols/http/bearerTokens.ts';

/** The scope a token needs for the console's actions that change the system (replay, scale). */
export const MANAGE_SCOPE = 'console:manage';
export const SESSION_COOKIE = 'presence_console_session';

interface Session {
  client: string;
  expiresAt: number;
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly tokens: BearerTokens,
    readonly ttlMs = 60 * 60 * 1000,
    /** Sessions held at once; the oldest goes first, so a login loop cannot grow memory. */
    private readonly max = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks the request's bearer token for the management scope (AccessRefused: 401/403) and opens a session. */
  login(req: http.IncomingMessage): { id: string; client: HttpClient; expiresAt: number; cookie: string } {
    const client = this.tokens.authorize(req, MANAGE_SCOPE);
    this.sweep();
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    this.sessions.set(id, { client: client.name, expiresAt });
    return { id, client, expiresAt, cookie: sessionCookie(id, Math.floor(this.ttlMs / 1000)) };
  }

  /** The session of the request's cookie, or undefined (none, unknown, expired). */
  session(req: http.IncomingMessage): (Session & { id: string }) | undefined {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return { ...s, id };
  }

  /** The request's session, or AccessRefused 401 saying how to get one. */
  require(req: http.IncomingMessage): Session & { id: string } {
    const s = this.session(req);
    if (!s)
      throw new AccessRefused(401, `log in first: POST /api/session with a bearer token holding the scope ${MANAGE_SCOPE}`, {
        'www-authenticate': `Bearer realm="presence-console", scope="${MANAGE_SCOPE}"`,
      });
    return s;
  }

  logout(req: http.IncomingMessage): void {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (id) this.sessions.delete(id);
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= t) this.sessions.delete(id);
  }
}

/** Path=/api: the page's own files never carry it. No Secure: the console serves plain HTTP on loopback by default. */
export function sessionCookie(id: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/api; Max-Age=${maxAgeS}`;
}

export const clearedCookie = `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/api; Max-Age=0`;

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * A request that changes something must come from the console's own page: a
 * browser sends Origin with every POST/DELETE, and it must name this host.
 * SameSite=Strict already keeps the cookie off other sites' requests; this
 * also refuses a request a tool forged with a stolen cookie but a foreign page.
 */
export function sameOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser (curl): no ambient cookie to abuse
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
