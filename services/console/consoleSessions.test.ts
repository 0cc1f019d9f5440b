import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { AccessRefused, BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { ConsoleSessions, MANAGE_SCOPE, SESSION_COOKIE, cookieValue, sameOrigin } from './consoleSessions.ts';

const manager = newToken('ops', [MANAGE_SCOPE]);
const reader = newToken('viewer', ['groups:read']);
const tokens = BearerTokens.parse(`${manager.line}\n${reader.line}\n`);
const req = (headers: Record<string, string>) => ({ headers }) as unknown as http.IncomingMessage;

describe('ConsoleSessions', () => {
  it('exchanges a management token for an HttpOnly, SameSite=Strict cookie that identifies the session until it expires', () => {
    let now = 1000;
    const sessions = new ConsoleSessions(tokens, 60_000, 10, () => now);
    const login = sessions.login(req({ authorization: `Bearer ${manager.token}` }));
    expect(login.client.name).toBe('ops');
    expect(login.cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/api; Max-Age=60$`));
    // The cookie never carries the token.
    expect(login.cookie).not.toContain(manager.token);
    const cookie = `other=1; ${SESSION_COOKIE}=${login.id}`;
    expect(sessions.session(req({ cookie }))?.client).toBe('ops');
    now += 60_000;
    expect(sessions.session(req({ cookie }))).toBeUndefined();
    expect(() => sessions.require(req({ cookie }))).toThrow(AccessRefused);
  });

  it('refuses a missing or unknown token (401) and one without the management scope (403)', () => {
    const sessions = new ConsoleSessions(tokens);
    const status = (headers: Record<string, string>) => {
      try {
        sessions.login(req(headers));
        return 200;
      } catch (e) {
        return (e as AccessRefused).status;
      }
    };
    expect(status({})).toBe(401);
    expect(status({ authorization: 'Bearer not-a-token' })).toBe(401);
    expect(status({ authorization: `Bearer ${reader.token}` })).toBe(403);
    expect(status({ authorization: `Bearer ${manager.token}` })).toBe(200);
  });

  it('logout ends the session; a made-up session id is no session', () => {
    const sessions = new ConsoleSessions(tokens);
    const { id } = sessions.login(req({ authorization: `Bearer ${manager.token}` }));
    const cookie = `${SESSION_COOKIE}=${id}`;
    sessions.logout(req({ cookie }));
    expect(sessions.session(req({ cookie }))).toBeUndefined();
    expect(sessions.session(req({ cookie: `${SESSION_COOKIE}=guessed` }))).toBeUndefined();
  });

  it('holds a bounded number of sessions: the oldest go first', () => {
    const sessions = new ConsoleSessions(tokens, 60_000, 2);
    const ids = [1, 2, 3].map(() => sessions.login(req({ authorization: `Bearer ${manager.token}` })).id);
    expect(sessions.session(req({ cookie: `${SESSION_COOKIE}=${ids[0]}` }))).toBeUndefined();
    expect(sessions.session(req({ cookie: `${SESSION_COOKIE}=${ids[2]}` }))).toBeDefined();
  });

  it('cookieValue and sameOrigin', () => {
    expect(cookieValue('a=1; b = 2', 'b')).toBe('2');
    expect(cookieValue(undefined, 'b')).toBeUndefined();
    expect(sameOrigin(req({ host: '127.0.0.1:8088', origin: 'http://127.0.0.1:8088' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:8088', origin: 'http://evil.example' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:8088', origin: 'null' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:8088' }))).toBe(true);
  });
});
