// Issue 19, "done means" for Pi: with no tap running, an IMS subscriber
// registering through Kamailio shows up registered in presence and its
// watcher is NOTIFYed. Kamailio 5.6 is the registrar serving the reg event
// (tools/kamailio/registrar.cfg); the reg-event agent SUBSCRIBEs there and
// publishes to signaling-events, for the subscribers whose partitions the event
// manager owns (regEventOwnership.ts); the event manager derives presence; the SIP
// front end and the notify sink serve a watcher. A SIPp handset registers,
// refreshes and de-registers: the watcher's PIDF gains an open tuple with the
// handset's contact, then loses it. Skips, saying why, without sipp or Kamailio.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { RegEventOwnership } from '../../streams/event-manager/regEventOwnership.ts';
import { numberingPlan } from '../../subscriber/numberingPlan.ts';
import { acknowledgedSink } from '../../taps/reg-event/acknowledgedSink.ts';
import { RegEventAgent } from '../../taps/reg-event/regEventAgent.ts';
import { SignalingPublisher } from '../../taps/signalingPublisher.ts';
import { kamailioRegistrarMissing, startKamailioRegistrar, type KamailioPeer } from '../../tools/kamailio/kamailio.ts';
import { registerHandsetUac } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { freeUdpPort } from '../support/ports.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const ALICE = { key: 'aor:sip:alice@ims.test', aor: 'sip:alice@ims.test' };
const MISSING = sippAvailable() ? kamailioRegistrarMissing() : 'sipp not found on PATH (Debian: apt-get install sip-tester)';
if (MISSING) console.warn(`reg-event presence through Kamailio skipped: ${MISSING}`);

const base = isolatedSettings('regpres', 4);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, identity: { ...base.identity, unknownSubscribers: 'keep' as const } };
const rulesSchema = `it_regpres_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;

describe.skipIf(MISSING !== undefined)('IMS registration through Kamailio → presence → watcher NOTIFY, no tap', () => {
  let kamailio: KamailioPeer | undefined;
  let publisher: SignalingPublisher | undefined;
  let agent: RegEventAgent | undefined;
  let fe: SipFrontEnd | undefined;
  let em: EventManager | undefined;
  let sink: NotifySink | undefined;
  let watcher: StrictWatcher | undefined;
  let ownership: RegEventOwnership | undefined;
  const logs = mkdtempSync(join(tmpdir(), 'regpres-'));

  beforeAll(async () => {
    kamailio = await startKamailioRegistrar({ host: HOST, port: await freeUdpPort(HOST), logFile: join(logs, 'kamailio.log') });
    await applyIsolated(s);
    await serde.loadIds();
    publisher = new SignalingPublisher(s, 'regpres-agent');
    await publisher.connect();
    agent = await RegEventAgent.start({
      host: HOST,
      registrar: { transport: 'udp', host: HOST, port: kamailio.port },
      watcher: 'sip:presence@ims.test',
      plan: numberingPlan(s),
      sink: acknowledgedSink(publisher),
    });
    em = await startEventManager(s, { memberId: `em-regpres-${run}`, rulesSchema });
    fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: `fe-regpres-${run}`, groups: false });
    sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
    watcher = await StrictWatcher.open();
  }, 180_000);

  afterAll(async () => {
    await ownership?.stop();
    await watcher?.close();
    await agent?.close();
    await publisher?.close();
    await fe?.stop();
    await em?.stop();
    await sink?.stop();
    await kamailio?.stop();
    rmSync(logs, { recursive: true, force: true });
    await cleanupIsolated(s);
    await dropSchema(rulesSchema);
  }, 120_000);

  it('the watcher sees the handset registered, then not', async () => {
    const callId = `regpres-watch-${run}`;
    // From the watcher's own socket, as a handset does: the front end relays NOTIFYs over the flow the
    // SUBSCRIBE came from (front-end/flowRelay.ts), so a SUBSCRIBE from a socket then closed never hears of changes.
    watcher!.subscribe({ to: ALICE.aor, from: 'sip:watcher@ims.test', callId, port: fe!.port, host: HOST });
    await eventually('the 200 to the SUBSCRIBE', () => watcher!.responses.some((r) => r.callId === callId && r.status === 200), { timeoutMs: 15_000 });
    await eventually('the first NOTIFY', () => watcher!.accepted(callId).length > 0, { timeoutMs: 60_000, intervalMs: 200 });
    expect(watcher!.accepted(callId)[0]!.body).not.toContain('sip:handset@');

    // The event manager owning alice's partition owns her reg dialog (the only member here: every partition).
    ownership = new RegEventOwnership({
      agent: agent!,
      subscribers: [ALICE],
      partitions: s.topics.partitions,
      owned: () => em!.processor.assignments(),
      intervalMs: 500,
    });
    await eventually('the reg dialog up', () => agent!.subscribedKeys.length === 1, { timeoutMs: 10_000, intervalMs: 50 });
    const handset = startSipp({
      scenario: registerHandsetUac({ aor: ALICE.aor, registrar: 'sip:ims.test', expires: 600, pauseMs: 4000 }),
      args: [`${HOST}:${kamailio!.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-m', '1'],
      deadlineMs: 30_000,
    });
    const registered = (b: string) => /<contact[^>]*>sip:handset@127\.0\.0\.1:\d+<\/contact>/.test(b) && b.includes('<basic>open</basic>');
    await eventually('a NOTIFY showing the handset registered', () => watcher!.accepted(callId).some((n) => registered(n.body)), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const done = await handset.done;
    expect(done.code, done.errors).toBe(0);
    await eventually(
      'a later NOTIFY without the handset',
      () => {
        const got = watcher!.accepted(callId);
        const first = got.findIndex((n) => registered(n.body));
        return first >= 0 && got.slice(first + 1).some((n) => !n.body.includes('sip:handset@'));
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    // What the agent published, read back from the broker: registered, refreshed, de-registered.
    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 4,
      count: 3,
      timeoutMs: 30_000,
    });
    const events = (await Promise.all(records.map((r) => serde.decode('signaling-events', r.value!)))) as SignalingEvent[];
    expect(events.map((e) => [e.subscriber, e.source.tap, e.sip?.contacts.length])).toEqual([
      [ALICE.key, 'reg-event', 1],
      [ALICE.key, 'reg-event', 1],
      [ALICE.key, 'reg-event', 0],
    ]);
    expect(watcher!.backwards).toEqual([]);
  }, 150_000);
});
