// The event service's OpenAPI document: valid OpenAPI 3.1, served as exported,
// and true to the server — every documented operation answers a documented
// status and the server answers nothing the document lacks. The database is a
// closed port, so the walk meets 401, 403, 400 and 503; the integration test
// (test/integration/eventService.test.ts) reaches the success answers.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { openApiProblems, undocumentedAnswers, walkOpenApi } from '../../test/support/openApiCheck.ts';
import { startEventsHttpApi } from './eventsHttpApi.ts';
import { EventStore } from './eventStore.ts';
import { eventServiceOpenApi } from './openapi.ts';

const store = new EventStore('postgres://postgres@127.0.0.1:1/nowhere', 'nowhere');
const reader = newToken('crm', ['events:read']);
const admin = newToken('provisioning', ['events:register', 'events:read', 'events:publish']);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
let server: http.Server;
let base: string;

beforeAll(async () => {
  const tokens = BearerTokens.parse(`${reader.line}\n${admin.line}\n`);
  server = await startEventsHttpApi({ store, settings: loadSettings(), tokens, publish: async () => {}, nextLogged: () => new Promise(() => {}) }, 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await store.close();
});

describe('event service OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(eventServiceOpenApi)).toEqual([]);
  });

  it('is served without a token at /openapi.json, equal to the exported document', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(eventServiceOpenApi)));
  });

  it('every documented operation answers a documented status: anonymous, with a read token, with an all-scopes token', async () => {
    const anonymous = await walkOpenApi(base, eventServiceOpenApi);
    expect(anonymous.filter((c) => !c.ok)).toEqual([]);
    expect(anonymous.map((c) => c.status).filter((s) => s !== 401)).toEqual([200, 503]);
    const read = await walkOpenApi(base, eventServiceOpenApi, bearer(reader.token));
    expect(read.filter((c) => !c.ok)).toEqual([]);
    expect(read.filter((c) => c.status === 403).length).toBeGreaterThan(0);
    const all = await walkOpenApi(base, eventServiceOpenApi, bearer(admin.token));
    expect(all.filter((c) => !c.ok)).toEqual([]);
    expect(all.filter((c) => c.status === 401 || c.status === 403)).toEqual([]);
  });

  it('the server has no route the document lacks: other methods are 405, other paths 404', async () => {
    expect(await undocumentedAnswers(base, eventServiceOpenApi, bearer(admin.token), ['/services/x/more', '/events/other'])).toEqual([]);
  });
});
