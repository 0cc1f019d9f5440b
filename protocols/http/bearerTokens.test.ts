import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { AccessRefused, BearerTokens, newToken } from './bearerTokens.ts';

const request = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as http.IncomingMessage;

describe('bearer tokens', () => {
  const reader = newToken('portal', ['groups:read']);
  const alice = newToken('alice-app', ['presence:read'], 'sip:alice@example.com');
  const tokens = BearerTokens.parse(`# clients\n${reader.line}\n\n${alice.line}\n`);

  it('grants the scopes of the matching line, with its identity', () => {
    expect(tokens.size).toBe(2);
    expect(tokens.authorize(request(`Bearer ${reader.token}`), 'groups:read').name).toBe('portal');
    expect(tokens.authorize(request(`bearer ${alice.token}`), 'presence:read')).toMatchObject({ name: 'alice-app', identity: 'sip:alice@example.com' });
  });

  it('401 without a token or with an unknown one, 403 for a scope the client lacks', () => {
    const refusal = (auth: string | undefined, scope: string): [number, string | undefined] => {
      try {
        tokens.authorize(request(auth), scope);
      } catch (err) {
        if (err instanceof AccessRefused) return [err.status, err.headers['www-authenticate']];
        throw err;
      }
      return [200, undefined];
    };
    expect(refusal(undefined, 'groups:read')).toEqual([401, 'Bearer realm="presence"']);
    expect(refusal(`Basic ${Buffer.from('a:b').toString('base64')}`, 'groups:read')[0]).toBe(401);
    expect(refusal(`Bearer ${newToken('x', ['groups:read']).token}`, 'groups:read')).toEqual([401, 'Bearer realm="presence", error="invalid_token"']);
    expect(refusal(`Bearer ${reader.token}`, 'groups:manage')).toEqual([403, 'Bearer realm="presence", error="insufficient_scope", scope="groups:manage"']);
  });

  it('stores no token, only its hash; a malformed line is an error naming it', () => {
    expect(reader.line).not.toContain(reader.token);
    expect(() => BearerTokens.parse(`${reader.line}\nportal plaintext-token groups:read\n`)).toThrow(/line 2/);
  });
});
