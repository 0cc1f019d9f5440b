// The group service's OpenAPI document (issue 13.4): valid OpenAPI 3.1, served
// as exported, and true to the server — every documented operation answers a
// documented status, and the server answers nothing the document lacks. The
// database here is a closed port (as in groupHttpApi.test.ts), so the walk
// meets 401, 403, 400 and 503; test/integration/openApiWalk.test.ts walks it
// against PostgreSQL to the success answers.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { openApiProblems, undocumentedAnswers, walkOpenApi } from '../../test/support/openApiCheck.ts';
import { startGroupHttpApi } from './groupHttpApi.ts';
import { GroupStore } from './groupStore.ts';
import { memberResolver } from './memberResolver.ts';
import { groupServiceOpenApi } from './openapi.ts';

const store = new GroupStore('postgres://postgres@127.0.0.1:1/nowhere', 'nowhere');
const reader = newToken('portal', ['groups:read']);
const admin = newToken('provisioning', ['groups:read', 'groups:manage']);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
let server: http.Server;
let base: string;

beforeAll(async () => {
  const tokens = BearerTokens.parse(`${reader.line}\n${admin.line}\n`);
  server = await startGroupHttpApi({ store, resolveMember: memberResolver(loadSettings()), tokens }, 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await store.close();
});

describe('group service OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(groupServiceOpenApi)).toEqual([]);
  });

  it('is served without a token at /openapi.json, equal to the exported document', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(groupServiceOpenApi);
  });

  it('every documented operation answers a documented status: anonymous, with a read token, with a manage token', async () => {
    const anonymous = await walkOpenApi(base, groupServiceOpenApi);
    expect(anonymous.filter((c) => !c.ok)).toEqual([]);
    // All but /healthz (503 here) and /openapi.json need a token.
    expect(anonymous.map((c) => c.status).filter((s) => s !== 401)).toEqual([503, 200]);
    const read = await walkOpenApi(base, groupServiceOpenApi, bearer(reader.token));
    expect(read.filter((c) => !c.ok)).toEqual([]);
    expect(read.filter((c) => c.status === 403).map((c) => c.method)).toEqual(['POST', 'PUT', 'PATCH', 'DELETE', 'DELETE']);
    const manage = await walkOpenApi(base, groupServiceOpenApi, bearer(admin.token));
    expect(manage.filter((c) => !c.ok)).toEqual([]);
    expect(manage.filter((c) => c.status === 503).length).toBe(manage.length - 1);
  });

  it('the server has no route the document lacks: other methods are 405, other paths 404', async () => {
    const extra404 = ['/groups/x/members', '/groups/x/members/tel%3A%2B351910000001/more'];
    expect(await undocumentedAnswers(base, groupServiceOpenApi, bearer(admin.token), extra404)).toEqual([]);
  });
});
