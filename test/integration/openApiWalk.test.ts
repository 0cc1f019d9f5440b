// The OpenAPI documents walked against the real stack (issue 13.4): the unit
// tests beside each API walk it with its backend a closed port; here the group
// service has PostgreSQL and the locator has Kafka, so every operation reaches
// its success answer and that answer must be a documented one too.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { startHttpApi } from '../../coordinator/httpApi.ts';
import { locatorOpenApi } from '../../coordinator/openapi.ts';
import { startGroupHttpApi } from '../../services/group-service/groupHttpApi.ts';
import { GroupStore } from '../../services/group-service/groupStore.ts';
import { memberResolver } from '../../services/group-service/memberResolver.ts';
import { groupServiceOpenApi } from '../../services/group-service/openapi.ts';
import { dropSchema, testDatabaseUrl, testSchema } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings } from '../support/isolatedStack.ts';
import { walkOpenApi } from '../support/openApiCheck.ts';
import { startConsole } from '../../services/console/consoleServer.ts';
import { consoleOpenApi } from '../../services/console/openapi.ts';
import { eventually } from '../support/wait.ts';

const servers: http.Server[] = [];
const cleanups: Array<() => Promise<void>> = [];
const baseOf = (server: http.Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const schema = testSchema('group_openapi');
const store = new GroupStore(testDatabaseUrl, schema);

beforeAll(async () => {
  await store.migrate();
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  await store.close();
  await dropSchema(schema);
  for (const c of cleanups) await c();
});

describe('OpenAPI walks against the running stack', () => {
  it('group service: create, read, change and delete, each answer documented', async () => {
    const server = await startGroupHttpApi({ store, resolveMember: memberResolver(loadSettings()) }, 0);
    servers.push(server);
    const calls = await walkOpenApi(baseOf(server), groupServiceOpenApi);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    expect(calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'POST /groups 201',
      'PUT /groups/openapi-walk/members/tel%3A%2B351910000001 201',
      'GET /groups 200',
      'GET /groups/openapi-walk 200',
      'GET /groups/openapi-walk/members/tel%3A%2B351910000001 200',
      'GET /healthz 200',
      'GET /openapi.json 200',
      'PATCH /groups/openapi-walk 200',
      'DELETE /groups/openapi-walk/members/tel%3A%2B351910000001 200',
      'DELETE /groups/openapi-walk 204',
    ]);
  });

  it('locator: locate and health against Kafka, each answer documented', async () => {
    // Topics of its own (member reports, current presence) for locate to read: no member owns the key, so owner and presence are null.
    const s = isolatedSettings('openapi-walk', 1);
    await applyIsolated(s);
    cleanups.push(() => cleanupIsolated(s));
    const server = await startHttpApi(s, 0);
    servers.push(server);
    const calls = await walkOpenApi(baseOf(server), locatorOpenApi);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    // locate is walked with its documented requester (issue 16: connectability for that requester).
    expect(calls.map((c) => `${c.path} ${c.status}`)).toEqual([
      '/locate/%2B351910000077?requester=sip%3Aboss%40corp.example 200',
      '/healthz 200',
      '/openapi.json 200',
    ]);
  }, 90_000);

  it('web console: its JSON routes against Kafka, each answer documented', async () => {
    const s = isolatedSettings('openapi-console', 1);
    await applyIsolated(s);
    cleanups.push(() => cleanupIsolated(s));
    const app = await startConsole(s, { port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.stop());
    const base = baseOf(app.server);
    await eventually('the console reading Kafka', async () => (await fetch(`${base}/api/healthz`)).status === 200, { timeoutMs: 60_000 });
    const calls = await walkOpenApi(base, consoleOpenApi);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    // Read-only: the changes are 405; the views answer from Kafka (no such group: 404).
    expect(calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual(
      expect.arrayContaining([
        'GET /api/healthz 200',
        'GET /api/groups 200',
        'GET /api/groups/openapi-walk 404',
        'GET /api/locate/%2B351910000077 200',
        'POST /api/scale 405',
      ]),
    );
  }, 120_000);
});
