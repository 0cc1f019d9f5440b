// The locator's HTTP API with bearer tokens (issue 13.4): presence and cell
// location are personal data, so /locate needs the `locate` scope. The broker
// named is a closed port on loopback: a request that passes the check gets 503,
// one that does not never reaches Kafka.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../config/settings.ts';
import { BearerTokens, newToken } from '../protocols/http/bearerTokens.ts';
import { startHttpApi } from './httpApi.ts';

const locator = newToken('noc', ['locate']);
const other = newToken('portal', ['groups:read']);
let server: http.Server;
let base: string;
beforeAll(async () => {
  const s = loadSettings();
  server = await startHttpApi(
    { ...s, kafka: { ...s.kafka, brokers: '127.0.0.1:1' } },
    0,
    '127.0.0.1',
    undefined,
    BearerTokens.parse(`${locator.line}\n${other.line}`),
  );
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('GET /locate with bearer tokens', () => {
  it('401 anonymous, 403 without the locate scope, through to Kafka with it', async () => {
    const get = (token?: string) =>
      fetch(`${base}/locate/${encodeURIComponent('+351910000077')}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const anonymous = await get();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="presence"');
    expect((await get(other.token)).status).toBe(403);
    expect((await get(locator.token)).status).toBe(503);
  }, 60_000);
});
