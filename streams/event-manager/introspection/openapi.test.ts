// The member API's OpenAPI document (issue 14.7, 13.4): valid OpenAPI 3.1,
// served as exported, and true to the server. The member behind it is a stand-in
// (its partitions and store, what the API reads) so the walk reaches every
// answer — 503 starting, 401, 403, 421, 404, 200 — without Kafka;
// test/integration/memberApi.test.ts asks a real event manager.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../config/settings.ts';
import { partitionOf } from '../../../kafka/partitioner.ts';
import { BearerTokens, newToken } from '../../../protocols/http/bearerTokens.ts';
import { openApiProblems, undocumentedAnswers, walkOpenApi } from '../../../test/support/openApiCheck.ts';
import type { EventManager } from '../eventManager.ts';
import { newSubscriber, type ManagedSubscriber } from '../managedSubscriber.ts';
import { startMemberApi, type MemberApi } from './memberApi.ts';
import { memberApiOpenApi } from './openapi.ts';

const s = loadSettings();
const ops = newToken('ops', ['subscribers:read', 'calls:decide']);
const other = newToken('portal', ['groups:read']);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const key = 'msisdn:+351910000077'; // the document's example
const partition = partitionOf(key, s.topics.partitions);
let held: number[] = [];
const store = new Map<string, ManagedSubscriber>();
const member = {
  stats: {},
  processor: { stats: {}, ctx: { partitions: () => held, store: () => store } },
  profilesOf: async () => new Map(),
  watcherDecision: async () => 'allow',
  dialogsHeld: () => 0,
} as unknown as EventManager;
let api: MemberApi;
let base: string;

beforeAll(async () => {
  api = await startMemberApi(s, { memberId: 'em-openapi', port: 0, host: '127.0.0.1', tokens: BearerTokens.parse(`${ops.line}\n${other.line}`) });
  base = api.url;
});
afterAll(() => api.close());

const statuses = async (headers: Record<string, string> = {}) => {
  const calls = await walkOpenApi(base, memberApiOpenApi, headers);
  expect(calls.filter((c) => !c.ok)).toEqual([]);
  return calls.map((c) => `${c.path} ${c.status}`);
};
const answers = (subscriber: number, stats: number) => [
  `/subscribers/msisdn%3A%2B351910000077?requester=sip%3Aboss%40corp.example ${subscriber}`,
  `/subscribers/msisdn%3A%2B351910000077/call-handling?caller=sip%3Aboss%40corp.example&medium=voice&urgent=false ${subscriber}`,
  `/stats ${stats}`,
  '/openapi.json 200',
];

describe('member API OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(memberApiOpenApi)).toEqual([]);
  });

  it('is served without a token at /openapi.json, equal to the exported document, even while the member starts', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(memberApiOpenApi);
  });

  it('every documented operation answers a documented status, through each of them', async () => {
    expect(await statuses(bearer(ops.token))).toEqual(answers(503, 503));
    api.serve(member);
    expect(await statuses()).toEqual(answers(401, 200));
    expect(await statuses(bearer(other.token))).toEqual(answers(403, 200));
    held = [partition === 0 ? 1 : 0];
    expect(await statuses(bearer(ops.token))).toEqual(answers(421, 200));
    held = [partition];
    expect(await statuses(bearer(ops.token))).toEqual(answers(404, 200));
    store.set(key, newSubscriber(key));
    expect(await statuses(bearer(ops.token))).toEqual(answers(200, 200));
  });

  it('the server has no route the document lacks: other methods are 405, other paths 404', async () => {
    expect(
      await undocumentedAnswers(base, memberApiOpenApi, bearer(ops.token), ['/subscribers', '/subscribers/a/b', '/subscribers/a/call-handling/b']),
    ).toEqual([]);
  });

  it('the call-handling query: 400 naming a bad or unknown parameter, the decision from the stand-in store', async () => {
    held = [partition];
    store.set(key, newSubscriber(key));
    const ask = async (q: string) => {
      const res = await fetch(`${base}/subscribers/${encodeURIComponent(key)}/call-handling${q}`, { headers: bearer(ops.token) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await ask('?medium=fax')).toMatchObject({ status: 400, body: { parameter: 'medium' } });
    expect(await ask('?urgent=yes')).toMatchObject({ status: 400, body: { parameter: 'urgent' } });
    expect(await ask('?caller=boss')).toMatchObject({ status: 400, body: { parameter: 'caller' } });
    expect(await ask('?at=tomorrow')).toMatchObject({ status: 400, body: { parameter: 'at' } });
    expect(await ask('?urgnet=true')).toMatchObject({ status: 400, body: { parameter: 'urgnet' } });
    expect(await ask('?caller=sip:a@b&caller=sip:c@d')).toMatchObject({ status: 400, body: { parameter: 'caller' } });
    // Nothing known about the subscriber yet: rejected as unknown.
    expect(await ask('?caller=sip:a@b.example&at=2026-03-11T09:30:00Z')).toMatchObject({
      status: 200,
      body: { key, partition, at: '2026-03-11T09:30:00.000Z', action: 'reject', reason: 'unknown' },
    });
    // subscribers:read alone does not let a token decide calls, nor calls:decide read presence.
    const reader = newToken('reader', ['subscribers:read']);
    const fresh = await startMemberApi(s, {
      memberId: 'em-openapi-2',
      port: 0,
      host: '127.0.0.1',
      tokens: BearerTokens.parse(`${reader.line}\n${other.line}`),
    });
    try {
      fresh.serve(member);
      expect((await fetch(`${fresh.url}/subscribers/${encodeURIComponent(key)}/call-handling`, { headers: bearer(reader.token) })).status).toBe(403);
      expect((await fetch(`${fresh.url}/subscribers/${encodeURIComponent(key)}`, { headers: bearer(reader.token) })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});
