// `presence replay` against the real broker, registry and PostgreSQL: real
// captures become Avro signaling events keyed by subscriber; the directory
// decides who is ours; a corrupted capture's bad frames land in the
// dead-letter topic with their raw bytes; the walking-skeleton event manager
// turns the events into notify requests.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../protocols/decode/pcap/readCapture.ts';
import { writePcap } from '../../protocols/decode/pcap/writePcap.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { replayCaptures } from '../../taps/replay/replayCaptures.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager } from '../../streams/event-manager/eventManager.ts';
import { capture, haveCaptures, noCapturesReason } from '../support/captures.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { readTopic } from '../support/topicReader.ts';

const s = isolatedSettings('replay', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const dbUrl = testDatabaseUrl;
const schema = `it_replay_${process.pid}`;
const directory = new SubscriberDirectory(dbUrl, schema);

if (!haveCaptures) console.warn(`replay tests skipped: ${noCapturesReason}`);

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  await directory.migrate();
});

afterAll(async () => {
  await directory.close();
  await dropSchema(schema);
  await cleanupIsolated(s);
});

describe.skipIf(!haveCaptures)('presence replay', () => {
  it("publishes our subscribers' MAP and ISUP signaling keyed by subscriber, drops strangers, learns pairs", async () => {
    // Two of the capture's subscribers are ours: one by IMSI only, one by MSISDN.
    await directory.provision([
      { imsi: '001011356567851', msisdn: null, aor: null },
      { imsi: null, msisdn: '+3933399708', aor: null },
    ]);
    const sum = await replayCaptures(s, [capture('ss7/map-location-update-m3ua.pcap'), capture('ss7/isup-call-m3ua-draft6.pcap')], {
      speed: Infinity,
      unknown: 'drop',
      directory,
    });
    expect(sum.signals).toBe(14);
    // insertSubscriberData revealed the MSISDN of IMSI ...851.
    expect(sum.learned).toBe(1);
    expect(sum.notSubscriber).toBeGreaterThan(0); // IMSI ...853 and the called number are not ours
    const events = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 4,
      count: sum.events,
      settleMs: 1000,
    });
    expect(events).toHaveLength(sum.events);
    const decoded = await Promise.all(events.map((m) => serde.decode('signaling-events', m.value!)));
    const keys = new Set(decoded.map((e) => e.subscriber));
    expect(keys).toEqual(new Set(['imsi:001011356567851', 'msisdn:+3933399708']));
    for (let i = 0; i < events.length; i++) expect(events[i]!.key!.toString()).toBe(decoded[i]!.subscriber);
    // ISUP: the calling party's view of its call, every message of it.
    const call = decoded.filter((e) => e.protocol === 'isup');
    expect(call.map((e) => e.message).sort()).toEqual(['ACM', 'ANM', 'CFN', 'IAM', 'REL', 'RLC']);
    expect(call.every((e) => e.isup!.role === 'calling' && e.isup!.cic === 213)).toBe(true);
    // MAP: ours is the first location update (frames 1-4), the result attributed through
    // the TCAP transaction, all under the key the subscriber was provisioned with.
    const map = decoded.filter((e) => e.protocol === 'map').map((e) => `${e.message}/${e.kind}@${e.source.frame}`);
    expect(map).toEqual(['updateLocation/invoke@1', 'insertSubscriberData/invoke@2', 'insertSubscriberData/result@3', 'updateLocation/result@4']);
    expect(decoded.find((e) => e.protocol === 'map' && e.source.frame === 2)!.identities.msisdn).toBe('+19786148973');
  });

  it('dead-letters undecodable frames with their raw bytes and goes on', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-replay-'));
    const frames = [];
    for await (const f of readCapture(capture('sip/sip-ipv6-udp.pcap'))) frames.push({ timeNs: f.timeNs, data: Buffer.from(f.data) });
    // Frame 2: IPv6 header cut short. Frame 4: a SIP message whose start line is garbage.
    frames[1]!.data = frames[1]!.data.subarray(0, 30);
    const sipAt = frames[3]!.data.indexOf('SIP/2.0');
    frames[3]!.data.write('XXXXXXX', sipAt, 'latin1');
    const file = path.join(dir, 'corrupt.pcap');
    await writePcap(file, frames, { linkType: 1 });
    const sum = await replayCaptures(s, [file], { speed: Infinity, unknown: 'keep', directory: undefined });
    expect(sum.deadLetters).toBeGreaterThanOrEqual(1);
    expect(sum.signals).toBeGreaterThanOrEqual(4);
    const dead = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'dead-letters'),
      partitions: 3,
      count: sum.deadLetters,
      settleMs: 500,
    });
    const letters = await Promise.all(dead.map((m) => serde.decode('dead-letters', m.value!)));
    const truncated = letters.find((l) => l.origin === 'corrupt.pcap#2');
    expect(truncated, JSON.stringify(letters.map((l) => [l.origin, l.layer, l.reason]))).toBeDefined();
    expect(truncated!.reason).toBe('truncated');
    expect(Buffer.compare(truncated!.raw, frames[1]!.data)).toBe(0);
  });

  it("feeds the event manager: our subscribers' presence is derived from the replayed capture", async () => {
    const em = await startEventManager({ ...s, database: { ...s.database, url: dbUrl } }, { memberId: 'it-replay', rulesSchema: schema });
    try {
      const records = await readTopic({
        brokers: s.kafka.brokers,
        topic: topicName(s.topics.prefix, 'current-presence'),
        partitions: 4,
        count: 2,
        settleMs: 2000,
        timeoutMs: 60_000,
      }).catch((err: Error) => {
        // A CI run once timed out here with no clue where the member stood: say it.
        const p = em.processor;
        const owned = p.assignments().map((a) => a.partition);
        throw new Error(
          `${err.message}; the member owns [${owned.join(',')}], processor stats ${JSON.stringify({ ...p.stats, commitLatency: undefined })}, event manager stats ${JSON.stringify(em.stats)}`,
        );
      });
      const latest = new Map<string, Awaited<ReturnType<typeof serde.decode<'current-presence'>>>>();
      for (const r of records) {
        const p = await serde.decode('current-presence', r.value!);
        latest.set(p.subscriber, p);
      }
      // IMSI ...851 completed its location update; the ISUP caller's call was answered, then released.
      expect(latest.get('imsi:001011356567851')).toMatchObject({ networkState: 'attached', basic: 'open' });
      expect(latest.get('msisdn:+3933399708')).toMatchObject({ callState: 'idle' });
    } finally {
      await em.stop();
    }
  });
});
