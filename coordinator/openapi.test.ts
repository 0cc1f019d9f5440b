// The locator's OpenAPI document (issue 13.4): valid OpenAPI 3.1, served as
// exported, and true to the server. Kafka here is a closed port on loopback
// (as in httpApi.test.ts), so the walk meets 401, 403 and 503;
// test/integration/openApiWalk.test.ts walks it against the running Kafka.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../config/settings.ts';
import { BearerTokens, newToken } from '../protocols/http/bearerTokens.ts';
import { openApiProblems, undocumentedAnswers, walkOpenApi } from '../test/support/openApiCheck.ts';
import { startHttpApi } from './httpApi.ts';
import { locatorOpenApi } from './openapi.ts';

const locator = newToken('noc', ['locate']);
const other = newToken('portal', ['groups:read']);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
let server: http.Server;
let base: string;
beforeAll(async () => {
  const s = loadSettings();
  const tokens = BearerTokens.parse(`${locator.line}\n${other.line}`);
  server = await startHttpApi({ ...s, kafka: { ...s.kafka, brokers: '127.0.0.1:1' } }, 0, '127.0.0.1', undefined, tokens);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('locator OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(locatorOpenApi)).toEqual([]);
  });

  it('is served without a token at /openapi.json, equal to the exported document', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(locatorOpenApi);
  });

  it('every documented operation answers a documented status: anonymous, without the locate scope, with it', async () => {
    const statuses = async (headers: Record<string, string>) => {
      const calls = await walkOpenApi(base, locatorOpenApi, headers);
      expect(calls.filter((c) => !c.ok)).toEqual([]);
      return calls.map((c) => `${c.method} ${c.path} ${c.status}`);
    };
    const expected = (locate: number) => [
      `GET /locate/%2B351910000077?requester=sip%3Aboss%40corp.example ${locate}`,
      'GET /healthz 503',
      'GET /openapi.json 200',
    ];
    expect(await statuses({})).toEqual(expected(401));
    expect(await statuses(bearer(other.token))).toEqual(expected(403));
    expect(await statuses(bearer(locator.token))).toEqual(expected(503));
  }, 60_000);

  it('the server has no route the document lacks: other methods are 405, other paths 404', async () => {
    expect(await undocumentedAnswers(base, locatorOpenApi, bearer(locator.token), ['/locate', '/locate/'])).toEqual([]);
  }, 60_000);
});
