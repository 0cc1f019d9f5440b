// The HTTP layer's answers that do not need a working database: routing,
// 405 + Allow, 413 (declared and streamed), 415, malformed JSON and paths —
// and 503 (not 500, not a crash) when the database refuses connections.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupRoute, startGroupHttpApi } from './groupHttpApi.ts';
import { GroupStore } from './groupStore.ts';
import { memberResolver } from './memberResolver.ts';
import { loadSettings } from '../../config/settings.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';

// Port 1 on loopback: nothing listens, so every query fails with ECONNREFUSED.
const store = new GroupStore('postgres://postgres@127.0.0.1:1/nowhere', 'nowhere');
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = await startGroupHttpApi({ store, resolveMember: memberResolver(loadSettings()), maxBodyBytes: 1000 }, 0);
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await store.close();
});

const json = { 'content-type': 'application/json' };

describe('group HTTP API without a database', () => {
  it('503 with Retry-After when the database does not answer', async () => {
    const res = await fetch(`${url}/groups/g1`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { error: string }).error).toMatch(/database unavailable/);
    expect((await fetch(`${url}/groups`, { method: 'POST', headers: json, body: JSON.stringify({ uri: 'sip:g@x.net', name: 'G' }) })).status).toBe(503);
  });

  it('405 with Allow per resource; 404 for other paths', async () => {
    for (const [path, method, allow] of [
      ['/groups', 'DELETE', 'GET, POST'],
      ['/groups/g1', 'PUT', 'GET, PATCH, DELETE'],
      ['/groups/g1/members/tel%3A%2B351910000001', 'POST', 'GET, PUT, DELETE'],
      ['/healthz', 'POST', 'GET'],
    ] as const) {
      const res = await fetch(`${url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
    }
    expect((await fetch(`${url}/groups/g1/extra`)).status).toBe(404);
  });

  it('bodies: 413 declared or streamed past the limit, 415 not JSON, 400 malformed JSON', async () => {
    expect((await fetch(`${url}/groups`, { method: 'POST', headers: json, body: 'x'.repeat(2000) })).status).toBe(413);
    // No Content-Length: the limit is enforced while reading.
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode('x'.repeat(400)));
        c.close();
      },
    });
    expect((await fetch(`${url}/groups`, { method: 'POST', headers: json, body: chunks, duplex: 'half' } as RequestInit)).status).toBe(413);
    expect((await fetch(`${url}/groups`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<group/>' })).status).toBe(415);
    expect((await fetch(`${url}/groups`, { method: 'POST', body: '{}' })).status).toBe(415); // untyped
    const bad = await fetch(`${url}/groups`, { method: 'POST', headers: json, body: '{"uri": ' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'body' });
    // Validation comes before the database: a bad request is a 400 even with the database down.
    expect(
      await (await fetch(`${url}/groups`, { method: 'POST', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"uri":"x"}' })).json(),
    ).toMatchObject({ field: 'uri' });
  });

  it('paths: bad percent-encoding, bad group ids, and unusable member identities are 400s naming the part', async () => {
    expect(await (await fetch(`${url}/groups/%E0%A4%A`)).json()).toMatchObject({ field: 'id' });
    expect(await (await fetch(`${url}/groups/a%20b`)).json()).toMatchObject({ field: 'id' });
    expect(await (await fetch(`${url}/groups/g1/members/bob`, { method: 'PUT' })).json()).toMatchObject({ field: 'member' });
    expect(await (await fetch(`${url}/groups/g1/members/imsi%3A268010000000001`, { method: 'PUT' })).json()).toMatchObject({ field: 'member' });
    expect(
      await (await fetch(`${url}/groups/g1`, { method: 'PATCH', headers: { ...json, 'if-match': 'yesterday' }, body: '{"name":"x"}' })).json(),
    ).toMatchObject({ field: 'If-Match' });
  });
});

describe('group HTTP API with bearer tokens (issue 13.4)', () => {
  const reader = newToken('portal', ['groups:read']);
  const admin = newToken('provisioning', ['groups:read', 'groups:manage']);
  let secured: http.Server;
  let base: string;
  beforeAll(async () => {
    const tokens = BearerTokens.parse(`${reader.line}\n${admin.line}\n`);
    secured = await startGroupHttpApi({ store, resolveMember: memberResolver(loadSettings()), tokens }, 0);
    base = `http://127.0.0.1:${(secured.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    secured.closeAllConnections();
    await new Promise((r) => secured.close(r));
  });
  const call = (method: string, path: string, token?: string) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...json, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(method === 'PUT' ? { body: '{}' } : {}),
    });

  it('anonymous requests are 401 with WWW-Authenticate; a read token may read but not join or delete (403); a manage token passes (here to the absent database: 503)', async () => {
    for (const [method, path] of [
      ['GET', '/groups/g1'],
      ['PUT', '/groups/g1/members/sip%3Aintruder%40example.com'],
      ['DELETE', '/groups/g1'],
    ] as const) {
      const anonymous = await call(method, path);
      expect([method, anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([method, 401, 'Bearer realm="presence"']);
    }
    expect((await call('GET', '/groups/g1', reader.token)).status).toBe(503);
    expect((await call('PUT', '/groups/g1/members/sip%3Aintruder%40example.com', reader.token)).status).toBe(403);
    expect((await call('DELETE', '/groups/g1', reader.token)).status).toBe(403);
    expect((await call('DELETE', '/groups/g1', admin.token)).status).toBe(503);
    const down = await call('GET', '/groups/g1', admin.token);
    expect(await down.json()).toEqual({ error: 'database unavailable' }); // not the driver's text
  });
});

describe('metric routes of the group API', () => {
  it('name the route, never the group id or member URI (bounded series, no personal data)', () => {
    expect(groupRoute('POST', '/groups')).toBe('POST groups');
    expect(groupRoute('GET', '/groups/fleet-7/')).toBe('GET group');
    expect(groupRoute('PUT', `/groups/fleet-7/members/${encodeURIComponent('tel:+351910000001')}`)).toBe('PUT member');
    expect(groupRoute('GET', '/healthz')).toBe('GET healthz');
    expect(groupRoute('GET', '/groups/a/b/c/d/e')).toBe('other');
  });
});
