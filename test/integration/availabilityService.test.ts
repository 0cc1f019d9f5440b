// Issue 16 part 6 on the real broker, registry and database: a profile change made
// through the availability service's HTTP API reaches the owning event manager
// through the outbox and the availability-profiles topic and takes effect at once —
// the watcher whose connectability changed gets a NOTIFY (measured from the request
// to the NOTIFY committed on notify-requests), the other watcher none, and the
// subscriber's current-presence carries the new connectability.
// - Bad input: 400 naming the field, nothing committed, nothing relayed.
// - A rebalance: the member that takes the subscriber over restores the version
//   applied with its state and applies the next change as fast.
// - The relay's database outage (a TCP proxy cut in front of PostgreSQL): the change
//   stays in the outbox while the relay's rounds fail and back off, and is published
//   once the database answers again — retried, never discarded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import type { NotifyRequest, Presence } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startAvailabilityService, type AvailabilityService } from '../../services/availability-service/availabilityService.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { CONNECTABILITY_NS } from '../../streams/event-manager/presence/connectabilityElement.ts';
import type { UserProfiles } from '../../subscriber/availability/availabilityProfile.ts';
import { BOSS, COLLEAGUE, PROFESSIONAL } from '../support/availabilityProfiles.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { mapEvent } from '../support/signalingEvents.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.ts';
import { tailTopic, type TopicTail } from '../support/topicTail.ts';
import { eventually, sleep } from '../support/wait.ts';

const PARTITIONS = 2;
const base = isolatedSettings('avsvc', PARTITIONS);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl } };
const schema = `it_avsvc_${process.pid}`;
const KEY = 'msisdn:+33600000071';
const PERSONAL: UserProfiles = { ...PROFESSIONAL, active: 'personal' };
/** The bound the issue sets is 1 s; asserted with margin for a loaded 2-core machine. */
const BOUND_MS = 3000;

const serde = new RecordSerde(s.registry.url, s.topics.prefix);
let producer: RecordProducer;
let em: EventManager;
let svc: AvailabilityService;
let notifies: TopicTail;
let presence: TopicTail;
let url: string;
const cleanups: Array<() => Promise<unknown>> = [];

/** The connectability a NOTIFY's PIDF carries for its watcher. */
const connectabilityOf = (n: NotifyRequest) => new RegExp(`<cn:connectability xmlns:cn="${CONNECTABILITY_NS}">([a-z-]+)<`).exec(n.body ?? '')?.[1];
const decodeNotify = (t: TopicTail, i: number) => serde.decode('notify-requests', t.arrived[i]!.message.value!);

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
const profilesPath = `/subscribers/${encodeURIComponent(KEY)}/profiles`;

/** NOTIFYs to `watcher` from index `from` on, decoded. */
async function notifiesTo(watcher: string, from = 0): Promise<NotifyRequest[]> {
  const out: NotifyRequest[] = [];
  for (let i = from; i < notifies.arrived.length; i++) {
    if (notifies.arrived[i]!.message.key?.toString() !== KEY) continue;
    const n = await decodeNotify(notifies, i);
    if (n.toUri === watcher) out.push(n);
  }
  return out;
}

/** The next NOTIFY to `watcher` carrying `connectability`, after index `from`; with its arrival time. */
async function nextNotify(watcher: string, connectability: string, from: number, timeoutMs = 20_000): Promise<{ n: NotifyRequest; at: number }> {
  let found: { n: NotifyRequest; at: number } | undefined;
  await eventually(
    `a NOTIFY to ${watcher} saying ${connectability}`,
    async () => {
      for (let i = from; i < notifies.arrived.length; i++) {
        const a = notifies.arrived[i]!;
        if (a.message.key?.toString() !== KEY) continue;
        const n = await decodeNotify(notifies, i);
        if (n.toUri === watcher && connectabilityOf(n) === connectability) return (found = { n, at: a.at });
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 10 },
  );
  return found!;
}

beforeAll(async () => {
  await applyIsolated(s);
  cleanups.push(
    () => cleanupIsolated(s),
    () => dropSchema(schema),
  );
  await serde.loadIds();
  producer = new RecordProducer(s.kafka.brokers, 'it-avsvc', 15_000);
  await producer.connect();
  cleanups.push(() => producer.close());
  notifies = await tailTopic(s.kafka.brokers, topicName(s.topics.prefix, 'notify-requests'), PARTITIONS);
  presence = await tailTopic(s.kafka.brokers, topicName(s.topics.prefix, 'current-presence'), PARTITIONS);
  cleanups.push(
    () => notifies.stop(),
    () => presence.stop(),
  );
  em = await startEventManager(s, { memberId: 'em-avsvc-1', rulesSchema: schema });
  cleanups.push(() => em.stop());
  svc = await startAvailabilityService(s, { port: 0, schema });
  cleanups.push(() => svc.stop());
  url = `http://127.0.0.1:${svc.port}`;
  await eventually('both partitions restored', () => em.processor.ctx.partitions().length === PARTITIONS, { timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('availability service → event manager through Kafka (issue 16 part 6)', () => {
  it('an activation through the HTTP API notifies the watcher whose connectability changed within a second; the other watcher nothing', async () => {
    // The subscriber attached, with its personal profile (everyone sees it available).
    const now = Date.now();
    for (const e of [
      mapEvent(KEY, 'updateLocation', 'invoke', now - 2000, { vlrNumber: '33609', opc: 1 }),
      mapEvent(KEY, 'updateLocation', 'result', now - 1000, { dpc: 1 }),
    ])
      await producer.send(topicName(s.topics.prefix, 'signaling-events'), KEY, serde.encode('signaling-events', e));
    expect((await call('PUT', profilesPath, PERSONAL)).status).toBe(200);
    await eventually('the profiles set applied', () => em.stats.profileChanges >= 1, { timeoutMs: 30_000 });

    // The boss and a colleague watch it: both told connectable.
    for (const [i, watcherUri] of [BOSS, COLLEAGUE].entries())
      await producer.send(
        topicName(s.topics.prefix, 'subscriptions'),
        KEY,
        serde.encode('subscriptions', subscriptionRecord(KEY, `avsvc-${i}`, { watcherUri, expires: 3600, receivedAt: Date.now() })),
      );
    await nextNotify(BOSS, 'connectable', 0);
    await nextNotify(COLLEAGUE, 'connectable', 0);
    const bossBefore = (await notifiesTo(BOSS)).length;

    // Professional profile, meeting mode by hand (forward to the mobile, except for the boss), then back: each way measured.
    const latencies: number[] = [];
    const steps: Array<[{ profile: string; manualMode?: string | null }, string]> = [];
    for (let i = 0; i < 3; i++) steps.push([{ profile: 'professional', manualMode: 'meeting' }, 'in-transfer'], [{ profile: 'personal' }, 'connectable']);
    for (const [activation, expected] of steps) {
      const from = notifies.arrived.length;
      const t0 = Date.now();
      const res = await call('POST', `${profilesPath}/activation`, activation);
      expect(res.status).toBe(200);
      const { n, at } = await nextNotify(COLLEAGUE, expected, from);
      latencies.push(at - t0);
      expect(n.causeEventId).toMatch(/^profiles-v\d+$/);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    process.stderr.write(`[avsvc] activation → NOTIFY committed: ${latencies.join(', ')} ms (median ${sorted[Math.floor(sorted.length / 2)]} ms)\n`);
    for (const l of latencies) expect(l).toBeLessThan(BOUND_MS);

    // The boss's view never changed: not one NOTIFY more (waited past the bound).
    await sleep(1000);
    expect((await notifiesTo(BOSS)).length).toBe(bossBefore);
    // current-presence follows: its last record carries the anonymous connectability of the personal profile.
    const last = [...presence.arrived].reverse().find((a) => a.message.key?.toString() === KEY)!;
    expect(((await serde.decode('current-presence', last.message.value!)) as Presence).connectability).toBe('connectable');
    expect(em.stats.profileChanges).toBe(1 + steps.length);
    expect(em.stats.deadLetters).toBe(0);
    await eventually('the outbox drained', async () => (await svc.store.outboxBacklog()) === 0);
  }, 120_000);

  it('bad input: 400 naming the field; nothing committed, nothing relayed', async () => {
    const applied = em.stats.profileChanges;
    const bad = await call('PUT', profilesPath, { ...PROFESSIONAL, profiles: [{ ...PROFESSIONAL.profiles[0]!, timeZone: 'Mars/Olympus' }] });
    expect(bad).toMatchObject({ status: 400, json: { field: 'profiles[0].timeZone' } });
    expect(await call('POST', `${profilesPath}/activation`, { profile: 'holiday' })).toMatchObject({ status: 400, json: { field: 'active' } });
    expect(await call('POST', `${profilesPath}/activation`, { profile: 'professional', manualMode: 'lunch' })).toMatchObject({
      status: 400,
      json: { field: 'profiles[1].manualMode' },
    });
    expect(await call('POST', `${profilesPath}/activation`, { manualMode: 'meeting' })).toMatchObject({ status: 400, json: { field: 'profile' } });
    expect((await call('PUT', profilesPath, '{"active": ')).status).toBe(400);
    // Valid, but a change record Kafka would refuse (it would block the outbox): refused before commit (the CLI has no body limit).
    const contacts = (tag: string) => Array.from({ length: 1000 }, (_, i) => `sip:${tag}${i}${'a'.repeat(460)}@corp.example`);
    const huge = { ...PERSONAL, profiles: PERSONAL.profiles.map((p) => ({ ...p, lists: { ...p.lists, allowed: contacts('a'), watched: contacts('w') } })) };
    await expect(svc.store.setProfiles(KEY, huge)).rejects.toMatchObject({ name: 'ProfileValidationError', field: 'profiles' });
    expect((await svc.store.getMany([KEY])).get(KEY)!.profiles[0]!.lists.allowed).toEqual(PERSONAL.profiles[0]!.lists.allowed);
    expect(await svc.store.outboxBacklog()).toBe(0);
    await sleep(1500);
    expect(em.stats.profileChanges).toBe(applied);
  }, 60_000);

  it('across a rebalance: the new owner restores the version applied with the state, and applies the next change as fast', async () => {
    const em2 = await startEventManager(s, { memberId: 'em-avsvc-2', rulesSchema: schema });
    cleanups.push(() => em2.stop());
    await eventually('the second member owns a partition', () => em2.processor.ctx.partitions().length >= 1, { timeoutMs: 60_000 });
    // The first member leaves: every partition, KEY's too, is restored by the second from its changelog.
    await em.stop();
    await eventually('the second member owns every partition', () => em2.processor.ctx.partitions().length === PARTITIONS, { timeoutMs: 60_000 });
    const { rows } = await svc.store.pool.query<{ version: string }>('select version from availability_profiles where subscriber = $1', [KEY]);
    const owner = () => em2.processor.ctx.store(em2.processor.ctx.partitions().find((p) => em2.processor.ctx.store(p).get(KEY))!).get(KEY)!;
    expect(owner().profilesVersion).toBe(Number(rows[0]!.version));
    expect(owner().watchers.size).toBe(2);

    const from = notifies.arrived.length;
    const t0 = Date.now();
    expect((await call('POST', `${profilesPath}/activation`, { profile: 'professional', manualMode: 'meeting' })).status).toBe(200);
    const { at } = await nextNotify(COLLEAGUE, 'in-transfer', from);
    process.stderr.write(`[avsvc] after the rebalance, activation → NOTIFY committed: ${at - t0} ms\n`);
    expect(at - t0).toBeLessThan(BOUND_MS);
    expect(em2.stats.profileChanges).toBe(1);
    // Back to personal for the next test, applied by the new owner.
    const back = notifies.arrived.length;
    expect((await call('POST', `${profilesPath}/activation`, { profile: 'personal' })).status).toBe(200);
    await nextNotify(COLLEAGUE, 'connectable', back);
    em = em2;
  }, 150_000);

  it("the relay's database outage: the change waits in the outbox, the relay retries, and it arrives once the database answers", async () => {
    // The only relay now is one whose database connections go through a proxy that can be cut.
    await svc.relay!.stop();
    const pgUrl = new URL(testDatabaseUrl);
    const proxy: TcpProxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    cleanups.push(() => proxy.close());
    const relayed = await startAvailabilityService(s, { port: 0, schema, databaseUrl: proxy.via(testDatabaseUrl), relayOptions: { maxBackoffMs: 1000 } });
    cleanups.push(() => relayed.stop());

    proxy.cut();
    const from = notifies.arrived.length;
    const applied = em.stats.profileChanges;
    // Committed through the API on the database directly (the API instance without a relay).
    expect((await call('POST', `${profilesPath}/activation`, { profile: 'professional', manualMode: 'meeting' })).status).toBe(200);
    await eventually('relay rounds failing', () => relayed.relay!.stats.failures >= 3, { timeoutMs: 20_000 });
    expect(await svc.store.outboxBacklog()).toBe(1);
    expect(em.stats.profileChanges).toBe(applied);
    expect(await notifiesTo(COLLEAGUE, from)).toEqual([]);

    proxy.restore();
    const t0 = Date.now();
    await nextNotify(COLLEAGUE, 'in-transfer', from, 20_000);
    process.stderr.write(`[avsvc] database back → NOTIFY committed: ${Date.now() - t0} ms (relay back-off up to 1 s)\n`);
    expect(await svc.store.outboxBacklog()).toBe(0);
    expect(relayed.relay!.stats.published).toBe(1);
    expect(em.stats.profileChanges).toBe(applied + 1);
  }, 90_000);
});
