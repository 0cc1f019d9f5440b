// The reg-event agent against a real registrar: Kamailio 5.6 (registrar +
// pua_reginfo + presence_reginfo, tools/kamailio/registrar.cfg) on loopback,
// a SIPp handset registering, refreshing and de-registering. The agent's
// SUBSCRIBE Event: reg dialog gets Kamailio's NOTIFYs; the events it publishes
// (to an in-memory sink here; test/integration has the Kafka round trip)
// folded by the event manager's derivation follow the handset:
// registered → refreshed → not registered. A second subscriber that never
// registers stays unregistered. Skips, saying why, without sipp or Kamailio.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter, SignalingEvent } from '../../schemas/generated/records.ts';
import { apply } from '../../streams/event-manager/presence/derive.ts';
import type { SubscriberPresence } from '../../streams/event-manager/presence/model.ts';
import { freeUdpPort } from '../../test/support/ports.ts';
import { eventually } from '../../test/support/wait.ts';
import { kamailioRegistrarMissing, startKamailioRegistrar, type KamailioPeer } from '../../tools/kamailio/kamailio.ts';
import { registerHandsetUac } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { RegEventAgent } from './regEventAgent.ts';

const HOST = '127.0.0.1';
const PLAN = { countryCode: '', nationalPrefix: '0', internationalPrefix: '00' };
const ALICE = { key: 'aor:sip:alice@ims.test', aor: 'sip:alice@ims.test' };
const BOB = { key: 'aor:sip:bob@ims.test', aor: 'sip:bob@ims.test' };
const MISSING = sippAvailable() ? kamailioRegistrarMissing() : 'sipp not found on PATH (Debian: apt-get install sip-tester)';
if (MISSING) console.warn(`reg-event agent against Kamailio skipped: ${MISSING}`);

describe.skipIf(MISSING !== undefined)('reg-event agent against Kamailio as the registrar', () => {
  let kamailio: KamailioPeer | undefined;
  let agent: RegEventAgent | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'regevent-'));
  const events: SignalingEvent[] = [];
  const letters: DeadLetter[] = [];

  beforeAll(async () => {
    kamailio = await startKamailioRegistrar({ host: HOST, port: await freeUdpPort(HOST), logFile: join(dir, 'kamailio.log') });
    agent = await RegEventAgent.start({
      host: HOST,
      registrar: { transport: 'udp', host: HOST, port: kamailio.port },
      watcher: 'sip:presence@ims.test',
      plan: PLAN,
      expiresS: 30,
      retryMs: 500,
      sink: { publish: async (e) => void events.push(e), deadLetter: async (d) => void letters.push(d) },
    });
  }, 30_000);
  afterAll(async () => {
    await agent?.close();
    await kamailio?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('subscribes per subscriber and follows a handset registering, refreshing and de-registering', async () => {
    await agent!.setSubscribers([ALICE, BOB]);
    await eventually('both reg dialogs up', () => agent!.subscribedKeys.length === 2, { timeoutMs: 10_000, intervalMs: 50 });
    const sipp = startSipp({
      scenario: registerHandsetUac({ aor: ALICE.aor, registrar: `sip:ims.test`, expires: 600, pauseMs: 1500 }),
      args: [`${HOST}:${kamailio!.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-m', '1'],
      deadlineMs: 20_000,
    });
    const result = await sipp.done;
    expect(result.code, result.errors).toBe(0);
    await eventually('registered, refreshed and de-registered published', () => events.length >= 3, { timeoutMs: 10_000, intervalMs: 50 });

    const alice = events.filter((e) => e.subscriber === ALICE.key);
    expect(alice.every((e) => e.source.tap === 'reg-event' && e.sip?.method === 'REGISTER' && e.sip.status === 200)).toBe(true);
    const bodies = alice.map((e) => /event="([a-z]+)"/.exec(e.sip!.body!.toString())?.[1]);
    expect(bodies).toEqual(['created', 'refreshed', 'unregistered']);
    const states: SubscriberPresence[] = [];
    alice.reduce<SubscriberPresence | undefined>((st, e) => {
      const next = apply(st, e).state;
      states.push(next);
      return next;
    }, undefined);
    const uris = states.map((p) => p.registration.contacts.map((c) => c.uri.replace(/:\d+$/, ':PORT')));
    expect(uris).toEqual([['sip:handset@127.0.0.1:PORT'], ['sip:handset@127.0.0.1:PORT'], []]);
    // The binding's expiry is what Kamailio granted (600 s), counted from the NOTIFY.
    const first = states[0]!.registration.contacts[0]!;
    expect(first.expiresAt - alice[0]!.time).toBeGreaterThan(590_000);
    expect(events.filter((e) => e.subscriber === BOB.key)).toEqual([]);
    expect(letters).toEqual([]);
    expect(agent!.stats).toMatchObject({ malformed: 0, gaps: 0, unrecorded: 0 });
  }, 60_000);

  it('moves a subscriber away (unsubscribes) and back (a fresh dialog with full state)', async () => {
    await agent!.setSubscribers([BOB]);
    expect(agent!.subscribedKeys).toEqual([BOB.key]);
    const before = agent!.stats.notifies;
    await agent!.setSubscribers([BOB, ALICE]);
    await eventually('alice subscribed again', () => agent!.subscribedKeys.includes(ALICE.key), { timeoutMs: 10_000, intervalMs: 50 });
    await eventually('the first NOTIFY of the new dialog', () => agent!.stats.notifies > before, { timeoutMs: 10_000, intervalMs: 50 });
  }, 30_000);
});
