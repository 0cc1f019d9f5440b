// The availability service's HTTP API: profiles put, read and activated through
// an in-memory store (the PostgreSQL store has its own integration test), 400s
// naming the field, 404, tokens; and its OpenAPI document walked against the
// server with the database a closed port (503 where it is needed).
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../config/settings.ts';
import { BearerTokens, newToken } from '../../protocols/http/bearerTokens.ts';
import { AvailabilityStore } from '../../subscriber/availability/availabilityStore.ts';
import type { UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { parseUserProfiles, ProfileValidationError } from '../../subscriber/availability/profileValidation.ts';
import { DEFAULT_PROFILES } from '../../subscriber/availability/settingsProfile.ts';
import { openApiProblems, undocumentedAnswers, walkOpenApi } from '../../test/support/openApiCheck.ts';
import { PROFESSIONAL } from '../../test/support/availabilityProfiles.ts';
import { availabilityServiceOpenApi } from './openapi.ts';
import { startProfilesHttpApi, type ProfileStore } from './profilesHttpApi.ts';
import type { ConsentService, HeldWatcher } from './watcherConsents.ts';
import type { MessagingFacts, WatcherConsent } from '../../schemas/generated/records.ts';
import { KafkaUnavailableError } from '../../kafka/recordProducer.ts';
import type { MessageService } from './messagePublisher.ts';

/** The message service's contract in memory: what was published, by subscriber key. */
const published: { key: string; facts: MessagingFacts }[] = [];
const memoryMessages: MessageService = { publish: async (key, facts) => (published.push({ key, facts }), `e${published.length}`) };
const downMessages: MessageService = { publish: async () => Promise.reject(new KafkaUnavailableError('127.0.0.1:1', 'no acknowledgement')) };

/** The consent service's contract in memory: the owner's dialogs as given, answers recorded. */
function memoryConsents(held: Map<string, Partial<HeldWatcher>[]>) {
  const answers: WatcherConsent[] = [];
  const service: ConsentService = {
    watchers: async (key) => (held.get(key) ?? []) as HeldWatcher[],
    answer: async (presentity, watcher, decision) => {
      const c = {
        consentId: `c${answers.length + 1}`,
        presentity,
        watcher: watcher.replace(/@(.*)$/, (_, h: string) => `@${h.toLowerCase()}`),
        decision,
        decidedAt: 0,
        source: 'test',
      };
      answers.push(c);
      return c;
    },
  };
  return { service, answers };
}
const HELD = new Map<string, Partial<HeldWatcher>[]>([
  [
    'msisdn:+33600000001',
    [
      { event: 'presence', watcherUri: 'sip:bob@example.com', state: 'pending', decision: 'confirm', expiresAt: '2026-01-01T09:00:00.000Z' },
      { event: 'dialog', watcherUri: 'sip:carol@example.com', state: 'active', decision: 'allow', expiresAt: '2026-01-01T09:00:00.000Z' },
      { event: 'presence.winfo', watcherUri: 'tel:+33600000001', state: 'active', decision: 'allow', expiresAt: '2026-01-01T09:00:00.000Z' },
      { event: 'message-summary', watcherUri: 'tel:+33600000001', state: 'active', decision: 'allow', expiresAt: '2026-01-01T09:00:00.000Z' },
      { event: 'presence', watcherUri: 'sip:gone@example.com', state: 'ended', decision: 'allow', expiresAt: '2026-01-01T09:00:00.000Z' },
    ],
  ],
]);
const consents = memoryConsents(HELD);
/** The database down, as node-postgres says it. */
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
const downConsents: ConsentService = { watchers: async () => Promise.reject(refused), answer: async () => Promise.reject(refused) };

/** The store's contract in memory: validated documents by subscriber key. */
function memoryStore(): ProfileStore {
  const rows = new Map<string, UserProfiles>();
  return {
    ping: async () => {},
    getMany: async (keys: string[]) => new Map(keys.map((k) => [k, rows.get(k) ?? DEFAULT_PROFILES])),
    setProfiles: async (k: string, raw: unknown) => {
      const p = parseUserProfiles(raw);
      rows.set(k, p);
      return p;
    },
    activate: async (k: string, profile: string, manualMode?: string | null) => {
      const cur = rows.get(k);
      if (!cur) throw new ProfileValidationError('subscriber', `${k} has no profiles (set them first)`);
      const next = parseUserProfiles({
        ...cur,
        active: profile,
        profiles: cur.profiles.map((p) => (p.name === profile && manualMode !== undefined ? { ...p, manualMode } : p)),
      });
      rows.set(k, next);
      return next;
    },
  } as ProfileStore;
}

const reader = newToken('portal', ['profiles:read']);
const admin = newToken('provisioning', ['profiles:read', 'profiles:manage', 'messages:publish']);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };
const closed = new AvailabilityStore('postgres://postgres@127.0.0.1:1/nowhere', 'nowhere');
const servers: http.Server[] = [];
let live: string;
let down: string;
let noConsent: string;

beforeAll(async () => {
  const tokens = BearerTokens.parse(`${reader.line}\n${admin.line}\n`);
  const settings = loadSettings();
  const a = await startProfilesHttpApi(
    { store: memoryStore(), settings, tokens, maxBodyBytes: 64 * 1024, consents: consents.service, messages: memoryMessages },
    0,
  );
  const b = await startProfilesHttpApi({ store: closed, settings, tokens, consents: downConsents, messages: downMessages }, 0);
  const c = await startProfilesHttpApi({ store: memoryStore(), settings, tokens }, 0);
  servers.push(c);
  noConsent = `http://127.0.0.1:${(c.address() as AddressInfo).port}`;
  servers.push(a, b);
  live = `http://127.0.0.1:${(a.address() as AddressInfo).port}`;
  down = `http://127.0.0.1:${(b.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await closed.close();
});

const profilesOf = (base: string, who: string) => `${base}/subscribers/${encodeURIComponent(who)}/profiles`;

describe('availability service HTTP API', () => {
  it('puts, reads and activates profiles; the subscriber is normalised to its key', async () => {
    const put = await fetch(profilesOf(live, 'tel:+33600000001'), {
      method: 'PUT',
      headers: { ...json, ...bearer(admin.token) },
      body: JSON.stringify(PROFESSIONAL),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ subscriber: 'msisdn:+33600000001', ...PROFESSIONAL });
    const got = await fetch(profilesOf(live, 'msisdn:+33600000001'), { headers: bearer(reader.token) });
    expect(((await got.json()) as UserProfiles).active).toBe('professional');
    const act = await fetch(`${profilesOf(live, 'msisdn:+33600000001')}/activation`, {
      method: 'POST',
      headers: { ...json, ...bearer(admin.token) },
      body: JSON.stringify({ profile: 'professional', manualMode: 'meeting' }),
    });
    expect(act.status).toBe(200);
    expect(((await act.json()) as UserProfiles).profiles[1]).toMatchObject({ manualMode: 'meeting' });
    // Without profiles: the default (available) profile.
    const none = await fetch(profilesOf(live, 'msisdn:+33600000009'), { headers: bearer(reader.token) });
    expect(await none.json()).toEqual({ subscriber: 'msisdn:+33600000009', ...DEFAULT_PROFILES });
  });

  it('400 naming the field; 404 activating without profiles; 401 / 403 by token', async () => {
    const bad = structuredClone(PROFESSIONAL) as unknown as { profiles: Array<{ modes: Array<{ rules?: Array<{ from: string }> }> }> };
    bad.profiles[1]!.modes[0]!.rules![0]!.from = '9am';
    const put = await fetch(profilesOf(live, 'msisdn:+33600000002'), {
      method: 'PUT',
      headers: { ...json, ...bearer(admin.token) },
      body: JSON.stringify(bad),
    });
    expect(put.status).toBe(400);
    expect(await put.json()).toMatchObject({ field: 'profiles[1].modes[0].rules[0].from' });
    const who = await fetch(profilesOf(live, 'not a number'), { headers: bearer(reader.token) });
    expect(who.status).toBe(400);
    expect(await who.json()).toMatchObject({ field: 'subscriber' });
    const act = (body: unknown, sub = 'msisdn:+33600000001') =>
      fetch(`${profilesOf(live, sub)}/activation`, { method: 'POST', headers: { ...json, ...bearer(admin.token) }, body: JSON.stringify(body) });
    expect(await (await act({ profile: 'holiday' })).json()).toMatchObject({ field: 'active' });
    expect(await (await act({ profile: 7 })).json()).toMatchObject({ field: 'profile' });
    expect(await (await act({ profile: 'professional', manualMode: 'lunch' })).json()).toMatchObject({ field: 'profiles[1].manualMode' });
    expect((await act({ profile: 'personal' }, 'msisdn:+33600000003')).status).toBe(404);
    expect((await fetch(profilesOf(live, 'msisdn:+33600000001'))).status).toBe(401);
    expect((await fetch(profilesOf(live, 'msisdn:+33600000001'), { method: 'PUT', headers: { ...json, ...bearer(reader.token) }, body: '{}' })).status).toBe(
      403,
    );
  });
});

describe('watchers and consent (issue 16.4)', () => {
  const watchersOf = (base: string, who: string, q = '') => `${base}/subscribers/${encodeURIComponent(who)}/watchers${q}`;
  const answer = (base: string, watcher: string, verb: string, body?: unknown, token = admin.token) =>
    fetch(`${watchersOf(base, 'tel:+33600000001')}/${encodeURIComponent(watcher)}/${verb}`, {
      method: 'POST',
      headers: { ...bearer(token), ...(body === undefined ? {} : json) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it("lists the owner's watchers, pending ones alone on asking; never the subscriber's own winfo or mailbox dialogs or an ended one", async () => {
    const all = await fetch(watchersOf(live, 'tel:+33600000001'), { headers: bearer(reader.token) });
    expect(all.status).toBe(200);
    expect(((await all.json()) as { watchers: Array<{ watcher: string }> }).watchers.map((w) => w.watcher)).toEqual([
      'sip:bob@example.com',
      'sip:carol@example.com',
    ]);
    const pending = await fetch(watchersOf(live, 'tel:+33600000001', '?status=pending'), { headers: bearer(reader.token) });
    expect(await pending.json()).toEqual({
      subscriber: 'msisdn:+33600000001',
      watchers: [{ watcher: 'sip:bob@example.com', event: 'presence', state: 'pending', decision: 'confirm', expiresAt: '2026-01-01T09:00:00.000Z' }],
    });
    const bad = await fetch(watchersOf(live, 'tel:+33600000001', '?status=maybe'), { headers: bearer(reader.token) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'status' });
  });

  it('approve stores allow (or the decision asked), deny block or polite-block; bad input names the field; scopes apply', async () => {
    const approved = await answer(live, 'sip:bob@EXAMPLE.com', 'approve');
    expect(approved.status).toBe(200);
    expect(await approved.json()).toEqual({ subscriber: 'msisdn:+33600000001', watcher: 'sip:bob@example.com', decision: 'allow', consentId: 'c1' });
    expect((await answer(live, 'sip:bob@example.com', 'approve', { decision: 'allow-presence' })).status).toBe(200);
    expect((await answer(live, '*@spam.example', 'deny')).status).toBe(200);
    expect((await answer(live, 'sip:eve@example.com', 'deny', { polite: true })).status).toBe(200);
    expect(consents.answers.map((a) => [a.presentity, a.watcher, a.decision])).toEqual([
      ['msisdn:+33600000001', 'sip:bob@example.com', 'allow'],
      ['msisdn:+33600000001', 'sip:bob@example.com', 'allow-presence'],
      ['msisdn:+33600000001', '*@spam.example', 'block'],
      ['msisdn:+33600000001', 'sip:eve@example.com', 'polite-block'],
    ]);
    const field = async (r: Response) => ((await r.json()) as { field?: string }).field;
    expect(await field(await answer(live, 'sip:bob@example.com', 'approve', { decision: 'block' }))).toBe('decision');
    expect(await field(await answer(live, 'sip:bob@example.com', 'deny', { polite: 'yes' }))).toBe('polite');
    expect(await field(await answer(live, 'bob', 'approve'))).toBe('watcher');
    expect(await field(await answer(live, 'sip:bob@example.com', 'approve', [1]))).toBe('body');
    expect((await answer(live, 'sip:bob@example.com', 'approve', undefined, reader.token)).status).toBe(403);
    expect((await fetch(`${watchersOf(live, 'tel:+33600000001')}/x/approve`, { method: 'GET', headers: bearer(admin.token) })).status).toBe(405);
    expect(consents.answers).toHaveLength(4);
  });

  it('without a consent service: 501; with the database down: 503 to retry', async () => {
    expect((await fetch(watchersOf(noConsent, 'tel:+33600000001'), { headers: bearer(reader.token) })).status).toBe(501);
    expect((await answer(noConsent, 'sip:bob@example.com', 'approve')).status).toBe(501);
    expect((await answer(down, 'sip:bob@example.com', 'approve')).status).toBe(503);
  });
});

describe('messaging publishes (issue 17.5)', () => {
  const put = (base: string, who: string, body: unknown, token = admin.token, method = 'PUT', what = 'message-summary') =>
    fetch(`${base}/subscribers/${encodeURIComponent(who)}/${what}`, { method, headers: { ...json, ...bearer(token) }, body: JSON.stringify(body) });
  const post = (base: string, who: string, body: unknown, token = admin.token) => put(base, who, body, token, 'POST', 'messages');
  const field = async (r: Response) => [r.status, ((await r.json()) as { field?: string }).field];

  it('a summary and a new message go out keyed by the subscriber, 202 once acknowledged', async () => {
    published.length = 0;
    const s = await put(live, 'tel:+33600000001', { account: 'sip:vm@example.net', messages: { 'voice-message': { new: 2, old: 8, urgentOld: 2 } } });
    expect(s.status).toBe(202);
    expect(await s.json()).toEqual({ subscriber: 'msisdn:+33600000001', eventId: 'e1' });
    const m = await post(live, '+33600000001', {
      messageId: 'vm-1',
      contentType: 'Audio/WAV',
      origin: 'tel:+441632960001',
      contact: 'https://vm.example.net/m/1',
    });
    expect(m.status).toBe(202);
    expect(published.map((p) => p.key)).toEqual(['msisdn:+33600000001', 'msisdn:+33600000001']);
    expect(published[0]!.facts.summary).toEqual({
      waiting: true,
      account: 'sip:vm@example.net',
      classes: [{ context: 'voice-message', newCount: 2, oldCount: 8, urgentNew: 0, urgentOld: 2 }],
    });
    expect(published[1]!.facts.notice).toMatchObject({
      messageId: 'vm-1',
      contentType: 'audio/wav',
      context: 'voice-message',
      contact: 'https://vm.example.net/m/1',
      subject: null,
    });
  });

  it('400 names the field; 401/403 without the messages:publish scope; 405; 501 without Kafka; 503 when Kafka does not acknowledge', async () => {
    published.length = 0;
    expect(await field(await put(live, 'tel:+33600000001', { messages: { voice: { new: 1, old: 0 } } }))).toEqual([400, 'messages.voice']);
    expect(await field(await put(live, 'tel:+33600000001', { messages: { 'voice-message': { new: -1, old: 0 } } }))).toEqual([
      400,
      'messages.voice-message.new',
    ]);
    expect(await field(await put(live, 'tel:+33600000001', { messages: {}, account: 'no uri' }))).toEqual([400, 'account']);
    expect(await field(await post(live, 'tel:+33600000001', { contentType: 'audio/wav', origin: 'tel:+1' }))).toEqual([400, 'messageId']);
    expect(await field(await post(live, 'tel:+33600000001', { messageId: 'x', contentType: 'wav', origin: 'tel:+1' }))).toEqual([400, 'contentType']);
    expect(await field(await post(live, 'tel:+33600000001', { messageId: 'x', contentType: 'text/plain', origin: 'tel:+1\r\nX: y' }))).toEqual([400, 'origin']);
    expect((await put(live, 'tel:+33600000001', { messages: {} }, reader.token)).status).toBe(403);
    expect((await fetch(`${live}/subscribers/x/messages`, { method: 'POST' })).status).toBe(401);
    expect((await put(live, 'tel:+33600000001', { messages: {} }, admin.token, 'POST')).status).toBe(405);
    expect(published).toEqual([]);
    expect((await put(noConsent, 'tel:+33600000001', { messages: {} })).status).toBe(501);
    const down503 = await post(down, 'tel:+33600000001', { messageId: 'x', contentType: 'text/plain', origin: 'tel:+1' });
    expect(down503.status).toBe(503);
    expect(down503.headers.get('retry-after')).toBe('2');
  });
});

describe('availability service OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1 and served as exported', async () => {
    expect(openApiProblems(availabilityServiceOpenApi)).toEqual([]);
    expect(await (await fetch(`${down}/openapi.json`)).json()).toEqual(availabilityServiceOpenApi);
  });

  it('every documented operation answers a documented status, and nothing the document lacks is routed', async () => {
    for (const headers of [{}, bearer(reader.token), bearer(admin.token)]) {
      const calls = await walkOpenApi(down, availabilityServiceOpenApi, headers);
      expect(calls.filter((c) => !c.ok)).toEqual([]);
    }
    const manage = await walkOpenApi(down, availabilityServiceOpenApi, bearer(admin.token));
    expect(manage.filter((c) => c.status === 503).length).toBe(manage.length - 1);
    expect(await undocumentedAnswers(down, availabilityServiceOpenApi, bearer(admin.token), ['/subscribers/x', '/subscribers/x/profiles/more'])).toEqual([]);
  });
});
