// The group presence API's OpenAPI document (issue 13.4): valid OpenAPI 3.1,
// served as exported, and true to the server. The table is a stand-in (as in
// groupPresenceApi.test.ts: the handler only reads records) holding group g-1,
// the document's example, with sip:bob@example.com a member.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerTokens, newToken } from '../../../protocols/http/bearerTokens.ts';
import type { GroupPresence } from '../../../schemas/generated/records.ts';
import { member, teamPresence } from '../../../test/support/groupRecords.ts';
import { openApiProblems, undocumentedAnswers, walkOpenApi } from '../../../test/support/openApiCheck.ts';
import { startGroupPresenceApi } from './groupPresenceApi.ts';
import type { GroupPresenceTable } from './groupPresenceTable.ts';
import { groupPresenceOpenApi } from './openapi.ts';

// A members-only team whose one member is bob (his token may read it, carol's may not).
const record: GroupPresence = teamPresence('g-1', 7, [member(1, { subscriber: 'aor:sip:bob@example.com', uri: 'sip:bob@example.com' })]);
let databaseDown = false;
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const table = {
  get: async (id: string) => {
    if (databaseDown) throw refused();
    return id === 'g-1' ? record : undefined;
  },
  count: async () => {
    if (databaseDown) throw refused();
    return 1;
  },
} as unknown as GroupPresenceTable;

const service = newToken('portal', ['presence:read', 'presence:any']);
const bob = newToken('bob-app', ['presence:read'], 'sip:bob@example.com');
const carol = newToken('carol-app', ['presence:read'], 'sip:carol@example.com');
const groupsOnly = newToken('provisioning', ['groups:read']);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
let server: http.Server;
let base: string;
beforeAll(async () => {
  const tokens = BearerTokens.parse([service, bob, carol, groupsOnly].map((t) => t.line).join('\n'));
  server = await startGroupPresenceApi({ table, plan: { countryCode: '351' }, tokens }, 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('group presence API OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(groupPresenceOpenApi)).toEqual([]);
  });

  it('is served without a token at /openapi.json, equal to the exported document', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(groupPresenceOpenApi);
  });

  it('every documented operation answers a documented status: 200, 401, 403 (scope, another user), 503', async () => {
    const statuses = async (headers: Record<string, string> = {}) => {
      const calls = await walkOpenApi(base, groupPresenceOpenApi, headers);
      expect(calls.filter((c) => !c.ok)).toEqual([]);
      return calls.map((c) => `${c.method} ${c.path.split('?')[0]} ${c.status}`);
    };
    const answers = (presence: number, health = 200) => [
      `GET /groups/g-1/presence ${presence}`,
      `GET /healthz ${health}`,
      'GET /openapi.json 200',
      `HEAD /groups/g-1/presence ${presence}`,
      `HEAD /healthz ${health}`,
    ];
    expect(await statuses(bearer(service.token))).toEqual(answers(200));
    expect(await statuses(bearer(bob.token))).toEqual(answers(200));
    expect(await statuses()).toEqual(answers(401));
    expect(await statuses(bearer(groupsOnly.token))).toEqual(answers(403));
    expect(await statuses(bearer(carol.token))).toEqual(answers(403)); // names bob, is carol
    databaseDown = true;
    try {
      expect(await statuses(bearer(service.token))).toEqual(answers(503, 503));
    } finally {
      databaseDown = false;
    }
  });

  it('the server has no route the document lacks: other methods are 405, other paths 404', async () => {
    expect(await undocumentedAnswers(base, groupPresenceOpenApi, bearer(service.token), ['/groups/g-1', '/groups/g-1/presence/more', '/groups'])).toEqual([]);
  });
});
