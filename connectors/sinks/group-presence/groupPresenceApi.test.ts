import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupPresence } from '../../../schemas/generated/records.ts';
import { startGroupPresenceApi } from './groupPresenceApi.ts';
import type { GroupPresenceTable } from './groupPresenceTable.ts';
import { BearerTokens, newToken } from '../../../protocols/http/bearerTokens.ts';

const pidf =
  '<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@example.com"><tuple id="t1"><status><basic>open</basic></status></tuple></presence>';
const record: GroupPresence = {
  groupId: 'g-1',
  version: 7,
  memberCount: 2,
  availableCount: 2,
  contentType: 'multipart/related',
  document: '',
  updatedAt: 1_700_000_000_000,
  uri: 'sip:team@groups.example.net',
  name: 'Team',
  adminPolicy: 'members-only',
  groupInfo: '<group-info/>',
  members: [
    {
      subscriber: 'aor:sip:bob@example.com',
      uri: 'sip:bob@example.com',
      role: null,
      displayName: null,
      attributes: {},
      share: null,
      sharedParts: [],
      basic: 'open',
      pidf,
    },
    {
      subscriber: 'aor:sip:carol@example.com',
      uri: 'sip:carol@example.com',
      role: null,
      displayName: null,
      attributes: { receive: 'refuse' },
      share: null,
      sharedParts: [],
      basic: 'open',
      pidf,
    },
  ],
};
// The handler only reads records; the table's PostgreSQL side is covered by the integration tests.
const table = { get: async (id: string) => (id === 'g-1' ? record : undefined), count: async () => 1 } as unknown as GroupPresenceTable;

let server: http.Server;
let port: number;
beforeAll(async () => {
  server = await startGroupPresenceApi({ table, plan: { countryCode: '351' } }, 0);
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function get(headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/groups/g-1/presence', headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('GET /groups/{id}/presence caching headers', () => {
  it('says the answer varies by requester header and Accept, and validates each representation by its own ETag', async () => {
    const json = await get({ 'x-presence-watcher': 'sip:bob@example.com' });
    const multi = await get({ 'x-presence-watcher': 'sip:bob@example.com', accept: 'multipart/related' });
    expect(json.status).toBe(200);
    expect(multi.status).toBe(200);
    for (const r of [json, multi]) expect(r.headers.vary?.toLowerCase()).toMatch(/accept.*x-presence-watcher|x-presence-watcher.*accept/);
    expect(json.headers.etag).toBe('"7"');
    expect(multi.headers.etag).not.toBe(json.headers.etag);
    // The JSON's validator does not validate the multipart body, and vice versa.
    expect((await get({ 'x-presence-watcher': 'sip:bob@example.com', accept: 'multipart/related', 'if-none-match': json.headers.etag! })).status).toBe(200);
    expect((await get({ 'x-presence-watcher': 'sip:bob@example.com', accept: 'multipart/related', 'if-none-match': multi.headers.etag! })).status).toBe(304);
    expect((await get({ 'x-presence-watcher': 'sip:bob@example.com', 'if-none-match': `"1", ${json.headers.etag}` })).status).toBe(304);
  });
});

describe('GET /groups/{id}/presence with bearer tokens (issue 13.4)', () => {
  const bob = newToken('bob-app', ['presence:read'], 'sip:bob@example.com');
  const stranger = newToken('stranger-app', ['presence:read'], 'sip:mallory@example.com');
  const portal = newToken('portal', ['presence:read', 'presence:any']);
  const reader = newToken('reader', ['groups:read']);
  const tokens = BearerTokens.parse([bob, stranger, portal, reader].map((t) => t.line).join('\n'));
  const failing = {
    get: async () => Promise.reject(new Error('relation "secret_schema.group_presence" does not exist')),
    count: async () => 1,
  } as unknown as GroupPresenceTable;
  let secured: http.Server;
  let broken: http.Server;
  const logged: string[] = [];
  beforeAll(async () => {
    secured = await startGroupPresenceApi({ table, plan: { countryCode: '351' }, tokens }, 0);
    broken = await startGroupPresenceApi({ table: failing, plan: { countryCode: '351' }, log: (l) => void logged.push(l) }, 0);
  });
  afterAll(async () => {
    await new Promise<void>((r) => secured.close(() => r()));
    await new Promise<void>((r) => broken.close(() => r()));
  });
  const at = (s: http.Server, query = '', token?: string, watcherHeader?: string) =>
    fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/groups/g-1/presence${query}`, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(watcherHeader ? { 'x-presence-watcher': watcherHeader } : {}) },
    });

  it('the requester is the token’s identity: naming a member in the query or header shows a members-only group to nobody else', async () => {
    expect((await at(secured, '?watcher=sip:bob@example.com')).status).toBe(401);
    const own = await at(secured, '', bob.token);
    expect(own.status).toBe(200);
    expect(((await own.json()) as { requester: { uri: string } }).requester.uri).toBe('sip:bob@example.com');
    expect((await at(secured, '?watcher=sip:bob@example.com', stranger.token)).status).toBe(403);
    expect((await at(secured, '', stranger.token, 'sip:bob@example.com')).status).toBe(403);
    expect((await at(secured, '', stranger.token)).status).toBe(403); // not a member
    expect((await at(secured, '', reader.token)).status).toBe(403); // lacks presence:read
  });

  it('a service client (presence:any, no identity of its own) names the requester it acts for', async () => {
    expect((await at(secured, '?watcher=sip:bob@example.com', portal.token)).status).toBe(200);
    expect((await at(secured, '?watcher=sip:mallory@example.com', portal.token)).status).toBe(403);
    expect((await at(secured, '', portal.token)).status).toBe(400);
  });

  it('a 500 carries an id, not the database’s error text, which goes to the log', async () => {
    const res = await at(broken, '?watcher=sip:bob@example.com');
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; id: string };
    expect(JSON.stringify(body)).not.toMatch(/relation|secret_schema/);
    expect(logged.some((l) => l.includes(body.id) && l.includes('secret_schema'))).toBe(true);
  });
});
