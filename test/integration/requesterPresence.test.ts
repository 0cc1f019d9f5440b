// Connectability per requester in presence queries (issue 16.3: "… and in
// current-presence for queries"). Alice's professional profile: in a meeting
// (set by hand) her calls transfer to her mobile, except for her boss; her boss
// and a colleague are allowed, a spammer denied, a friend needs consent (given
// to one friend by a rule), strangers too. A real event manager owns her; its
// member API and the coordinator's locate (through the member reports to the
// owner) answer each requester with its own connectability, in the record and in
// the PIDF's cn:connectability element: a user's token asks as that user only.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpApi } from '../../coordinator/httpApi.ts';
import { MemberReportsView } from '../../coordinator/memberReportsReader.ts';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { WatcherRules } from '../../streams/event-manager/authorization/watcherRules.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { startMemberApi, type MemberApi } from '../../streams/event-manager/introspection/memberApi.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import type { UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { repoRoot } from '../support/captures.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const MEMBER_PORT = 27201;
const LOCATOR_PORT = 27202;
const ALICE = 'msisdn:+351910000131';
const BOSS = 'sip:boss@corp.example';
const COLLEAGUE = 'sip:colleague@corp.example';
const SPAMMER = 'sip:spam@junk.example';
const FRIEND = 'sip:friend@home.example';
const TRUSTED_FRIEND = 'sip:trusted@home.example';
const STRANGER = 'sip:someone@else.example';

const PROFESSIONAL: UserProfiles = {
  active: 'professional',
  profiles: [
    {
      name: 'professional',
      timeZone: 'Europe/Lisbon',
      defaultMode: 'available',
      manualMode: 'meeting',
      modes: [
        { name: 'available', state: { kind: 'available' } },
        { name: 'meeting', state: { kind: 'transfer', to: { number: '+351910000999' } }, appliesTo: { except: [BOSS] } },
      ],
      lists: { allowed: [BOSS, COLLEAGUE], denied: [SPAMMER], consent: [FRIEND, TRUSTED_FRIEND], watched: [], others: 'consent' },
    },
  ],
};

const base = isolatedSettings('callh-requester', 2);
const ops = newToken('ops', ['subscribers:read', 'locate']);
const boss = newToken('boss-portal', ['subscribers:read', 'locate'], BOSS);
const spammer = newToken('spam-portal', ['subscribers:read'], SPAMMER);
const spammerLocating = newToken('spam-locator', ['locate'], SPAMMER);
const tokensFile = path.join(mkdtempSync(path.join(tmpdir(), 'presence-tokens-')), 'tokens');
writeFileSync(tokensFile, `${ops.line}\n${boss.line}\n${spammer.line}\n${spammerLocating.line}\n`);
// Strangers need consent: without a rule a watcher is 'confirm' (pending), so no consent is given.
const s = {
  ...base,
  database: { ...base.database, url: testDatabaseUrl },
  eventManager: { ...base.eventManager, defaultWatcherDecision: 'confirm' as const },
  http: { ...base.http, tokensFile, token: ops.token },
};
const rulesSchema = `it_callh_requester_${process.pid}`;
const cleanups: Array<() => Promise<void>> = [];
let api: MemberApi;
let em: EventManager;

interface Answer {
  requester?: string | null;
  presence: { subscriber: string; connectability: string; pidf: string };
  watchers?: unknown[];
  parameter?: string;
}
const get = async (url: string, token: string) => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Answer };
};
const member = (query: string, token = ops.token) => get(`${api.url}/subscribers/${encodeURIComponent(ALICE)}${query}`, token);
const locator = (query: string, token = ops.token) => get(`http://${HOST}:${LOCATOR_PORT}/locate/${encodeURIComponent(ALICE)}${query}`, token);
const as = (requester: string) => `?requester=${encodeURIComponent(requester)}`;
const element = (pidf: string) => /<cn:connectability[^>]*>([^<]+)<\/cn:connectability>/.exec(pidf)?.[1];

beforeAll(async () => {
  await applyIsolated(s);
  cleanups.push(async () => {
    await dropSchema(rulesSchema);
    await cleanupIsolated(s);
  });
  const profiles = new AvailabilityStore(s.database.url, rulesSchema);
  await profiles.migrate();
  await profiles.setProfiles(ALICE, PROFESSIONAL);
  await profiles.close();
  const rules = new WatcherRules(s.database.url, 'confirm', rulesSchema, 0);
  await rules.migrate();
  await rules.set(ALICE, TRUSTED_FRIEND, 'allow');
  await rules.set(ALICE, SPAMMER, 'block');
  await rules.close();

  api = await startMemberApi(s, { memberId: 'em-callh-req', port: MEMBER_PORT, host: HOST, tokens: BearerTokens.load(tokensFile) });
  cleanups.push(() => api.close());
  em = await startEventManager(s, { memberId: 'em-callh-req', rulesSchema, membership: { httpUrl: api.url, reportIntervalMs: 500 } });
  cleanups.push(() => em.stop());
  api.serve(em);
  await eventually('both partitions restored', () => em.processor.ctx.partitions().length === 2, { timeoutMs: 60_000 });
  const server: http.Server = await startHttpApi(s, LOCATOR_PORT, HOST, undefined, BearerTokens.load(tokensFile));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const view = await MemberReportsView.open(s, { follow: true });
  await eventually('the report naming the member API', () => view.ownerOfKey(ALICE)?.httpUrl === api.url, { timeoutMs: 30_000 });
  await view.close();

  // Alice attached: reachable, so the mode alone decides between connectable and in-transfer.
  const producer = new RecordProducer(s.kafka.brokers, 'it-callh-requester', 15_000);
  await producer.connect();
  const serde = new RecordSerde(s.registry.url, s.topics.prefix);
  await serde.loadIds();
  const now = Date.now();
  for (const e of [
    mapEvent(ALICE, 'updateLocation', 'invoke', now - 2000, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }),
    mapEvent(ALICE, 'updateLocation', 'result', now - 1900, { opc: 200, dpc: 100 }),
  ])
    await producer.send(topicName(s.topics.prefix, 'signaling-events'), e.subscriber, serde.encode('signaling-events', e));
  await producer.close();
  await eventually('Alice attached', () => em.stats.signals >= 2, { timeoutMs: 30_000 });
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('connectability per requester in presence queries', () => {
  it("the owner's member API answers each requester its own connectability, in the record and the PIDF", async () => {
    const expected: Array<[string | undefined, string]> = [
      [BOSS, 'connectable'], // the meeting's transfer is not for him
      [COLLEAGUE, 'in-transfer'], // allowed, and in the meeting's scope
      [SPAMMER, 'unknown'], // denied list
      [FRIEND, 'subject-to-authorization'], // consent list, no consent yet
      [TRUSTED_FRIEND, 'in-transfer'], // consent list, consented by a rule
      [STRANGER, 'subject-to-authorization'], // others: consent
      [undefined, 'subject-to-authorization'], // anonymous: what strangers get
    ];
    for (const [requester, connectability] of expected) {
      const { status, body } = await member(requester ? as(requester) : '');
      expect(status, requester).toBe(200);
      expect({ requester: body.requester, connectability: body.presence.connectability, element: element(body.presence.pidf) }).toEqual({
        requester: requester ?? null,
        connectability,
        element: connectability,
      });
      // An operator's (service) token still sees the watcher dialogs.
      expect(Array.isArray(body.watchers)).toBe(true);
    }
  });

  it("a user's token asks as that user: its own connectability, no watcher dialogs, nobody else's view, nothing when blocked", async () => {
    const own = await member('', boss.token);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ requester: BOSS, presence: { subscriber: ALICE, connectability: 'connectable' } });
    expect(own.body.watchers).toBeUndefined();
    expect((await member(as(BOSS), boss.token)).status).toBe(200);
    expect(await member(as(COLLEAGUE), boss.token)).toMatchObject({ status: 403, body: { parameter: 'requester' } });
    expect((await member('', spammer.token)).status).toBe(403);
  });

  it('bad requesters are 400 naming the parameter', async () => {
    expect(await member('?requester=boss')).toMatchObject({ status: 400, body: { parameter: 'requester' } });
    expect(await member(`${as(BOSS)}&requester=${encodeURIComponent(COLLEAGUE)}`)).toMatchObject({ status: 400, body: { parameter: 'requester' } });
  });

  it("the coordinator's locate asks the owner for the requester's connectability", async () => {
    const byOps = await locator(as(COLLEAGUE));
    expect(byOps.status).toBe(200);
    expect(byOps.body).toMatchObject({ key: ALICE, presenceFrom: 'owner', requester: COLLEAGUE, presence: { connectability: 'in-transfer' } });
    expect((await locator('')).body).toMatchObject({ presenceFrom: 'owner', requester: null, presence: { connectability: 'subject-to-authorization' } });
    expect((await locator(as(STRANGER))).body).toMatchObject({ requester: STRANGER, presence: { connectability: 'subject-to-authorization' } });
    expect((await locator('', boss.token)).body).toMatchObject({ requester: BOSS, presence: { connectability: 'connectable' } });
    expect((await locator(as(SPAMMER), boss.token)).status).toBe(403);
  });

  it('`presence locate --requester` prints the requester’s connectability', async () => {
    // Not spawnSync: the member API answering it runs in this process.
    const out = await promisify(execFile)(process.execPath, [path.join(repoRoot, 'bin/presence.mjs'), 'locate', ALICE, '--no-directory', '--requester', BOSS], {
      env: { ...process.env, PRESENCE_TOPIC_PREFIX: s.topics.prefix, PRESENCE_PARTITIONS: '2', PRESENCE_HTTP_TOKEN: ops.token },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(JSON.parse(out.stdout)).toMatchObject({ key: ALICE, presenceFrom: 'owner', requester: BOSS, presence: { connectability: 'connectable' } });
  }, 90_000);

  it("locate by a blocked user's token is 403, as the member API is: nothing of the presence, and no topic fallback when the owner cannot say", async () => {
    const refused = await locator('', spammerLocating.token);
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).not.toContain('pidf');
    // The owner gone quiet: an operator still gets the presence from the topic; a user's view cannot be decided there.
    await api.close();
    const byOps = await locator('');
    expect(byOps.status).toBe(200);
    expect(byOps.body).toMatchObject({ presenceFrom: 'topic' });
    for (const token of [spammerLocating.token, boss.token]) {
      const user = await locator('', token);
      expect(user.status).toBe(503);
      expect(JSON.stringify(user.body)).not.toContain('pidf');
    }
  }, 60_000);
});
