// The web console's OpenAPI document: valid OpenAPI 3.1, served as exported,
// and true to the server — every documented operation answers a documented
// status read-only, with management but no session, and logged in; and the
// server answers 405/404 for what the document lacks. Kafka here is a closed
// port, so the views meet 503 and a replay its refusal;
// test/integration/openApiWalk.test.ts walks it against the stack.
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings, type Settings } from '../../config/settings.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { openApiProblems, undocumentedAnswers, walkOpenApi } from '../../test/support/openApiCheck.ts';
import { startConsole, type Console } from './consoleServer.ts';
import { MANAGE_SCOPE } from './consoleSessions.ts';
import { consoleOpenApi } from './openapi.ts';

const base = loadSettings();
const offline: Settings = { ...base, kafka: { ...base.kafka, brokers: '127.0.0.1:1' } };
const manager = newToken('ops', [MANAGE_SCOPE]);
const consoles: Console[] = [];
const urlOf = (c: Console) => `http://127.0.0.1:${(c.server.address() as AddressInfo).port}`;

async function start(manage: boolean): Promise<string> {
  const c = await startConsole(offline, {
    port: 0,
    host: '127.0.0.1',
    retryMs: 60_000,
    ...(manage
      ? { management: { tokens: BearerTokens.parse(`${manager.line}\n`), captures: [], scale: async () => [] as Array<{ id: string; pid: number }> } }
      : {}),
  });
  consoles.push(c);
  return urlOf(c);
}

afterAll(async () => {
  for (const c of consoles) await c.stop().catch(() => {});
});

const statuses = (calls: Awaited<ReturnType<typeof walkOpenApi>>) => calls.map((c) => `${c.method} ${c.path.replace(/\?.*/, '')} ${c.status}`);

describe('web console OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(consoleOpenApi)).toEqual([]);
  });

  it('is served without a token or session at /openapi.json, equal to the exported document', async () => {
    const res = await fetch(`${await start(false)}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(consoleOpenApi);
  });

  it('read-only: every documented operation answers a documented status (changes 405), and nothing undocumented answers', async () => {
    const url = await start(false);
    const calls = await walkOpenApi(url, consoleOpenApi);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    expect(calls.filter((c) => c.method !== 'GET').map((c) => c.status)).toEqual([405, 405, 405, 405, 405]);
    expect(await undocumentedAnswers(url, consoleOpenApi)).toEqual([]);
  });

  it('with management: refused without a session (401), then logged in every change is answered as documented', async () => {
    const url = await start(true);
    const anonymous = await walkOpenApi(url, consoleOpenApi);
    expect(anonymous.filter((c) => !c.ok)).toEqual([]);
    expect(statuses(anonymous).filter((x) => /^(POST \/api\/(scale|replays)|DELETE \/api\/replays)/.test(x))).toEqual([
      'POST /api/scale 401',
      'POST /api/replays 401',
      'DELETE /api/replays/current 401',
    ]);
    const login = await fetch(`${url}/api/session`, { method: 'POST', headers: { authorization: `Bearer ${manager.token}` } });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const session = await walkOpenApi(url, consoleOpenApi, { cookie, authorization: `Bearer ${manager.token}` });
    expect(session.filter((c) => !c.ok)).toEqual([]);
    // Scale to 1 is taken; no such capture (400) or Kafka down (503) for the replay; none running to stop (409).
    expect(statuses(session).filter((x) => /^(POST \/api\/(scale|replays)|DELETE \/api\/replays)/.test(x))).toEqual([
      'POST /api/scale 202',
      expect.stringMatching(/^POST \/api\/replays (400|503)$/),
      'DELETE /api/replays/current 409',
    ]);
  });
});
