// BLF from a SIP call the taps saw (issue 20: "an ISUP call, a SIP call"): a real
// capture's INVITE → 100 → 180 → 200 → ACK … BYE → 200 between two SIP phones,
// replayed through the taps, lights both parties' lamps as RFC 4235 NOTIFY
// requests — trying/early, confirmed, terminated, one dialog, contiguous versions.
// The parties' keys are learned from a dry run of the same tap (no Kafka), so the
// watchers subscribe before the call is replayed.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordProducer } from '../../kafka/recordProducer.ts';
import { parseDialogInfo } from '../../presence-document/dialogInfo.ts';
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { startEventManager, type EventManager } from '../../streams/event-manager/eventManager.ts';
import { runTap, type TapPublisher } from '../../taps/pipeline/tapPipeline.ts';
import { capture, haveCaptures, noCapturesReason } from '../support/captures.ts';
import { dropSchema, testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { shiftedCapture } from '../support/shiftedCapture.ts';
import { subscriptionRecord } from '../support/subscriptionRecords.ts';
import { readTopic } from '../support/topicReader.ts';

const CAPTURE = 'sip/sip-tcp.pcap';
const DIALOG_INFO = 'application/dialog-info+xml';
const HAVE_CAPTURE = haveCaptures && existsSync(capture(CAPTURE));
if (!HAVE_CAPTURE) console.warn(`SIP-call BLF test skipped: ${haveCaptures ? `${capture(CAPTURE)} is absent` : noCapturesReason}`);

const base = isolatedSettings('blf-sip', 4);
const s = { ...base, database: { ...base.database, url: testDatabaseUrl }, identity: { ...base.identity, unknownSubscribers: 'keep' as const } };
const rulesSchema = `it_blf_sip_${process.pid}`;
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const run = `${Date.now().toString(36)}${process.pid}`;
let em: EventManager | undefined;

/** The subscriber keys the tap gives the INVITE's parties (a dry run: nothing published). */
async function partiesOfTheCall(): Promise<string[]> {
  const events: SignalingEvent[] = [];
  const collect: TapPublisher = {
    stats: { events: 0, deadLetters: 0 },
    connect: async () => {},
    publish: async (e) => void events.push(e),
    deadLetter: async () => {},
    close: async () => {},
  };
  await runTap(s, [shiftedCapture(capture(CAPTURE), Date.now())], { tap: 'replay', speed: Infinity, unknown: 'keep', publisher: collect });
  return [...new Set(events.filter((e) => e.protocol === 'sip' && e.message === 'INVITE').map((e) => e.subscriber))];
}

beforeAll(async () => {
  if (!HAVE_CAPTURE) return;
  await applyIsolated(s);
  await serde.loadIds();
  em = await startEventManager(s, { memberId: 'em-blf-sip', rulesSchema });
});

afterAll(async () => {
  await em?.stop();
  if (HAVE_CAPTURE) await cleanupIsolated(s);
  await dropSchema(rulesSchema);
});

describe.skipIf(!HAVE_CAPTURE)('BLF: Event: dialog watchers ← replayed SIP call', () => {
  it("lights both parties' lamps: ringing, answered, hung up, as one dialog with contiguous versions", async () => {
    const parties = await partiesOfTheCall();
    expect(parties.length).toBe(2);
    const producer = new RecordProducer(s.kafka.brokers, 'it-blf-sip', 15_000);
    await producer.connect();
    try {
      for (const [i, key] of parties.entries()) {
        const sub = subscriptionRecord(key, `blf-sip-${i}-${run}`, { event: 'dialog', accept: [DIALOG_INFO] });
        await producer.send(topicName(s.topics.prefix, 'subscriptions'), key, serde.encode('subscriptions', sub));
      }
    } finally {
      await producer.close();
    }
    // Both dialogs exist (their first, empty NOTIFYs) before the call is replayed.
    const first = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'notify-requests'),
      partitions: 4,
      count: 2,
      timeoutMs: 60_000,
    });
    expect(first).toHaveLength(2);

    const sum = await runTap(s, [shiftedCapture(capture(CAPTURE), Date.now())], { tap: 'replay', speed: Infinity, unknown: 'keep' });
    expect(sum.events).toBeGreaterThanOrEqual(7);

    const got = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'notify-requests'),
      partitions: 4,
      count: 8,
      timeoutMs: 60_000,
      settleMs: 3000,
    });
    const all = await Promise.all(got.map((m) => serde.decode('notify-requests', m.value!)));
    for (const [i] of parties.entries()) {
      const notifies = all.filter((n) => n.callId === `blf-sip-${i}-${run}`);
      const docs = notifies.map((n) => parseDialogInfo(n.body!));
      // Contiguous versions, full state first then partial.
      expect(docs.map((d) => d.version)).toEqual(docs.map((_, k) => k + 1));
      expect(docs.map((d) => d.state)).toEqual(docs.map((_, k) => (k === 0 ? 'full' : 'partial')));
      const states = docs.slice(1).map((d) => d.dialogs.map((x) => x.state).join(','));
      // Lamp off before the call; then the call rings (trying/early), is answered, ends.
      expect(docs[0]!.dialogs).toEqual([]);
      expect(states.at(-1)).toBe('terminated');
      expect(states).toContain('confirmed');
      expect(states.indexOf('confirmed')).toBeGreaterThan(0);
      expect(states.slice(0, states.indexOf('confirmed')).every((x) => x === 'trying' || x === 'proceeding' || x === 'early')).toBe(true);
      expect(new Set(docs.slice(1).map((d) => d.dialogs[0]!.id)).size).toBe(1);
    }
    // One party called, the other was called.
    const directions = parties.map((_, i) => parseDialogInfo(all.filter((n) => n.callId === `blf-sip-${i}-${run}`).at(-1)!.body!).dialogs[0]!.direction);
    expect(directions.sort()).toEqual(['initiator', 'recipient']);
  });
});
