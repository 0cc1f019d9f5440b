// Issue 19, "done means", the whole chain with no tap running: an IMS
// subscriber (AoR sip:alice@ims.test, provisioned with MSISDN +351910000001)
// registers through Kamailio (tools/kamailio/registrar.cfg) from a SIPp
// handset. The event manager's own reg-event agent — started as `presence run
// event-manager` starts it (memberRegEvent.ts, from the eventManager.regEvent
// settings), for the partitions the member owns — SUBSCRIBEs to her reg event;
// the event manager derives presence and NOTIFYs her two watchers through the
// SIP front end and the notify sink. The family watcher, whose rule is
// allow-location, made the event manager write a location request on its
// SUBSCRIBE; the location agent asked the test's MLP server (OMA MLP 3.x over
// HTTP) and the family's NOTIFYs carry the RFC 4119 geopriv position (circle,
// timestamp, method). The friend, an ordinary 'allow', asked nothing and sees
// no position. Skips, saying why, without sipp or Kamailio.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocationAgent } from '../../connectors/location-agent/locationAgent.ts';
import { LocationAgentLoop } from '../../connectors/location-agent/locationAgentLoop.ts';
import { startNotifySink, type NotifySink } from '../../connectors/sinks/notify/notifySink.ts';
import type { Settings } from '../../config/settings.ts';
import { startSipFrontEnd, type SipFrontEnd } from '../../front-end/sipFrontEnd.ts';
import type { LocationRequest } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { WatcherRules } from '../../streams/event-manager/authorization/watcherRules.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { regEventConfigured, startMemberRegEvent, type MemberRegEvent } from '../../streams/event-manager/memberRegEvent.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { MlpLocationQuery } from '../../taps/network-query/mlpLocationQuery.ts';
import { QueryGuard } from '../../taps/network-query/queryGuard.ts';
import { kamailioRegistrarMissing, startKamailioRegistrar, type KamailioPeer } from '../../tools/kamailio/kamailio.ts';
import { registerHandsetUac } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { dropSchema, testDatabaseUrl, testSchema } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMlpServer, type MlpServer } from '../support/mlpServer.ts';
import { freeUdpPort } from '../support/ports.ts';
import { StrictWatcher } from '../support/strictWatcher.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const ALICE = { aor: 'sip:alice@ims.test', msisdn: '+351910000001', key: 'msisdn:+351910000001' };
const MISSING = sippAvailable() ? kamailioRegistrarMissing() : 'sipp not found on PATH (Debian: apt-get install sip-tester)';
if (MISSING) console.warn(`network agents through Kamailio and MLP skipped: ${MISSING}`);

const schema = testSchema('netagents');
const run = `${Date.now().toString(36)}${process.pid}`;
const logs = mkdtempSync(join(tmpdir(), 'netagents-'));
const identitiesFile = join(logs, 'ims-identities.txt');
// Where she was, as the GMLC reports it: a few seconds before the question, by A-GPS, within 120 m.
const observed = new Date(Math.floor(Date.now() / 1000) * 1000 - 5000);

describe.skipIf(MISSING !== undefined)('done means (issue 19): IMS registration via Kamailio and an MLP position reach the right watchers, no tap', () => {
  let s: Settings;
  let kamailio: KamailioPeer | undefined;
  let directory: SubscriberDirectory | undefined;
  let regEvent: MemberRegEvent | undefined;
  let em: EventManager | undefined;
  let fe: SipFrontEnd | undefined;
  let sink: NotifySink | undefined;
  let gmlc: MlpServer | undefined;
  let locationLoop: LocationAgentLoop | undefined;
  const watchers: StrictWatcher[] = [];

  beforeAll(async () => {
    kamailio = await startKamailioRegistrar({ host: HOST, port: await freeUdpPort(HOST), logFile: join(logs, 'kamailio.log') });
    writeFileSync(identitiesFile, `# the IMS subscribers whose registration the event managers follow\n${ALICE.aor}\n`);
    const base = isolatedSettings('netagents', 4);
    s = {
      ...base,
      database: { ...base.database, url: testDatabaseUrl },
      eventManager: {
        ...base.eventManager,
        regEvent: { registrar: `${HOST}:${kamailio.port}`, identitiesFile, watcher: 'sip:presence@ims.test', host: HOST, port: 0, expiresS: 600 },
      },
    };
    await applyIsolated(s);
    directory = new SubscriberDirectory(testDatabaseUrl, schema);
    await directory.migrate();
    await directory.provision([{ msisdn: ALICE.msisdn, imsi: null, aor: ALICE.aor }]);
    const rules = new WatcherRules(testDatabaseUrl, 'allow', schema);
    await rules.migrate();
    await rules.set(ALICE.key, 'sip:family@ims.test', 'allow-location');
    await rules.close();

    gmlc = await startMlpServer();
    gmlc.answers.set(ALICE.msisdn.slice(1), { kind: 'circle', latitude: 38.736946, longitude: -9.142685, radiusM: 120, time: observed, method: 'A-GPS' });
    const mlp = new MlpLocationQuery({ url: gmlc.url, clientId: 'presence', password: null, horizontalAccuracyM: 500, maxLocationAgeS: 300 });
    locationLoop = await LocationAgentLoop.start(s, new LocationAgent(new QueryGuard(mlp, { minIntervalMs: 60_000, timeoutMs: 5000 }), 'location-agent'));

    em = await startEventManager(s, { memberId: `em-netagents-${run}`, rulesSchema: schema });
    fe = await startSipFrontEnd(s, { host: HOST, port: 0, frontEndId: `fe-netagents-${run}`, groups: false, directory });
    sink = await startNotifySink(s, { host: HOST, port: 0, drainMs: 1000 });
  }, 180_000);

  afterAll(async () => {
    await regEvent?.stop();
    for (const w of watchers) await w.close();
    await locationLoop?.stop();
    await gmlc?.close();
    await fe?.stop();
    await em?.stop();
    await sink?.stop();
    await kamailio?.stop();
    await directory?.close();
    rmSync(logs, { recursive: true, force: true });
    if (s) await cleanupIsolated(s);
    await dropSchema(schema);
  }, 120_000);

  /** A watcher SUBSCRIBEs to Alice's AoR from its own socket (NOTIFYs come back over the SUBSCRIBE's flow). */
  async function subscribe(name: string): Promise<{ watcher: StrictWatcher; callId: string }> {
    const watcher = await StrictWatcher.open();
    watchers.push(watcher);
    const callId = `netagents-${name}-${run}`;
    watcher.subscribe({ to: ALICE.aor, from: `sip:${name}@ims.test`, callId, port: fe!.port, host: HOST });
    await eventually(`the 200 to ${name}'s SUBSCRIBE`, () => watcher.responses.some((r) => r.callId === callId && r.status === 200), { timeoutMs: 15_000 });
    await eventually(`${name}'s first NOTIFY`, () => watcher.accepted(callId).length > 0, { timeoutMs: 60_000, intervalMs: 200 });
    return { watcher, callId };
  }

  it('the handset registered through Kamailio NOTIFYs both watchers; only the one allowed location gets the MLP position, as geopriv', async () => {
    // As `presence run event-manager` decides (cli/commands/run.ts): the settings name a registrar and an identities file.
    expect(regEventConfigured(s)).toBe(true);
    regEvent = await startMemberRegEvent(s, { memberId: `em-netagents-${run}`, owned: () => em!.processor.assignments(), directory, ownershipIntervalMs: 500 });
    expect(regEvent.provisioned).toBe(1);
    // Her reg dialog is up once the member owns her partition (the only member here: every partition).
    await eventually('the reg dialog up', () => regEvent!.agent.subscribedKeys.includes(ALICE.key), { timeoutMs: 15_000, intervalMs: 100 });

    const family = await subscribe('family');
    const friend = await subscribe('friend');
    const hasPosition = (b: string) => b.includes('<gp:geopriv');
    await eventually('the family watcher told her position', () => family.watcher.accepted(family.callId).some((n) => hasPosition(n.body)), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });

    const handset = startSipp({
      scenario: registerHandsetUac({ aor: ALICE.aor, registrar: 'sip:ims.test', expires: 600, pauseMs: 5000 }),
      args: [`${HOST}:${kamailio!.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-m', '1'],
      deadlineMs: 40_000,
    });
    const registered = (b: string) => /<contact[^>]*>sip:handset@127\.0\.0\.1:\d+<\/contact>/.test(b) && b.includes('<basic>open</basic>');
    for (const w of [family, friend])
      await eventually(`a NOTIFY to ${w.callId} showing the handset registered`, () => w.watcher.accepted(w.callId).some((n) => registered(n.body)), {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
    const done = await handset.done;
    expect(done.code, done.errors).toBe(0);

    // The family's view of her registration carries the position the GMLC gave: circle, when she was there, how she was positioned.
    const view = family.watcher.accepted(family.callId).find((n) => registered(n.body))!.body;
    expect(view).toContain(
      '<gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>38.736946 -9.142685</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">120</gs:radius></gs:Circle>',
    );
    expect(view).toContain('<gp:method>A-GPS</gp:method>');
    expect(view).toMatch(new RegExp(`<tuple id="location">[\\s\\S]*<timestamp>${observed.toISOString()}</timestamp>`));
    // The friend sees her registered, never where she is.
    expect(friend.watcher.accepted(friend.callId).length).toBeGreaterThan(1);
    for (const n of friend.watcher.accepted(friend.callId)) expect(n.body).not.toMatch(/geopriv|gml:|gs:Circle/);

    // One question reached the GMLC, for her MSISDN — the friend's SUBSCRIBE asked nothing.
    expect(gmlc!.seen.map((q) => q.msisdn)).toEqual([ALICE.msisdn.slice(1)]);
    const requests = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'location-requests'),
      partitions: 4,
      count: 1,
      timeoutMs: 20_000,
      settleMs: 1000,
    });
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    const asked = (await Promise.all(requests.map((r) => serde.decode('location-requests', r.value!)))) as LocationRequest[];
    expect(asked.map((r) => [r.subscriber, r.reason])).toEqual([[ALICE.key, 'watcher']]);
    for (const w of watchers) expect(w.backwards).toEqual([]);
    expect(locationLoop!.stats).toMatchObject({ requests: 1, positions: 1 });
  }, 180_000);
});
