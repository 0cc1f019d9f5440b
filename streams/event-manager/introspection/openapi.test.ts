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
const ops = newToken('ops', ['subscribers:read']);
const other = newToken('portal', ['groups:read']);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const key = 'msisdn:+351910000077'; // the document's example
const partition = partitionOf(key, s.topics.partitions);
let held: number[] = [];
const store = new Map<string, ManagedSubscriber>();
const member = { stats: {}, processor: { stats: {}, ctx: { partitions: () => held, store: () => store } } } as unknown as EventManager;
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
const answers = (subscriber: number, stats: number) => [`/subscribers/msisdn%3A%2B351910000077 ${subscriber}`, `/stats ${stats}`, '/openapi.json 200'];

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
    expect(await undocumentedAnswers(base, memberApiOpenApi, bearer(ops.token), ['/subscribers', '/subscribers/a/b'])).toEqual([]);
  });
});
