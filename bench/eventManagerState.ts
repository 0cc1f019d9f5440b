// Benchmark without Kafka (issue 15 parts 1–2): an event manager's state per
// subscriber and its hot path's CPU per event, in this process.
//   node --expose-gc --import tsx bench/eventManagerState.ts
//   BENCH_SUBSCRIBERS=100000 BENCH_ROUNDS=2 (events per subscriber: 1 updateLocation
//   invoke → attaching, 2 + result → attached, 3 + purgeMS → purged) BENCH_STORE=objects
//   (the store without a codec, as before the compact store)
// The path per event is the member's: the signaling record decoded, the handler
// (derivation, current-presence record, PIDF), the store read (a decode of the committed
// bytes) and write, the timer index, each batch's changelog bytes and commit, in
// batches of 500. Not in it: librdkafka, transactions, the availability lookup.
import { RecordSerde } from '../schemas/serde.ts';
import { TOPICS } from '../schemas/topology.ts';
import type { WatcherRules } from '../streams/event-manager/authorization/watcherRules.ts';
import { EventManagerContext } from '../streams/event-manager/handlers/context.ts';
import { signalingEvents } from '../streams/event-manager/handlers/signalingEvents.ts';
import { PartitionStore } from '../kafka/partitionStore.ts';
import { forUpdate, fromStateRecord, newSubscriber, toStateRecord, type ManagedSubscriber } from '../streams/event-manager/managedSubscriber.ts';
import { mapEvent } from '../test/support/signalingEvents.ts';
import type { OutputRecord } from '../kafka/transactionalProcessor.ts';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const OBJECTS = process.env.BENCH_STORE === 'objects';
const PARTITIONS = 12;
const BATCH = 500;

// Schema ids as a registry would give them (none is asked: every value here is this process's own).
const serde = new RecordSerde('http://127.0.0.1:1', 'bench-state.');
{
  const internals = serde as unknown as { idByTopic: Map<string, number>; typeById: Map<number, unknown>; types: Map<string, unknown> };
  TOPICS.forEach((t, i) => {
    internals.idByTopic.set(t.name, i + 1);
    internals.typeById.set(i + 1, internals.types.get(t.valueSchema));
  });
}
const CHANGELOG = 'event-manager-presence-store-changelog' as const;
const encode = (m: ManagedSubscriber) => serde.encode(CHANGELOG, toStateRecord(m));
const codec = OBJECTS
  ? undefined
  : { encode, decode: (b: Buffer) => fromStateRecord(serde.decodeOwn(CHANGELOG, b)), isCurrent: (b: Buffer) => serde.isOwn(CHANGELOG, b) };

const gc = (globalThis as { gc?: () => void }).gc;
const settle = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, off: m.arrayBuffers };
};
const key = (n: number) => `msisdn:+3519${String(n).padStart(8, '0')}`;
const T0 = Date.now() - 100_000;

/** The i-th event: subscriber i mod K, its (i div K)-th step, as bench/eventManager.ts's. */
function input(i: number): { partition: number; key: string; value: Buffer } {
  const k = key(i % SUBSCRIBERS);
  const ids = { eventId: `b${i}`, identities: { imsi: null, msisdn: k.slice(8), aor: null } };
  const t = T0 + Math.floor(i / SUBSCRIBERS) * 30_000 + (i % 1000);
  const step = Math.floor(i / SUBSCRIBERS) % 3;
  const e =
    step === 0
      ? mapEvent(k, 'updateLocation', 'invoke', t, { vlrNumber: '351910999001', mscNumber: '351910999001', opc: 100, dpc: 200 }, ids)
      : step === 1
        ? mapEvent(k, 'updateLocation', 'result', t, { hlrNumber: '351910999900', opc: 200, dpc: 100 }, ids)
        : mapEvent(k, 'purgeMS', 'invoke', t, { vlrNumber: '351910999001', opc: 100, dpc: 200 }, ids);
  return { partition: (i % SUBSCRIBERS) % PARTITIONS, key: k, value: serde.encode('signaling-events', e) };
}

const events = SUBSCRIBERS * ROUNDS;
const inputs = Array.from({ length: Math.min(events, 200_000) }, (_, i) => input(i)); // the first events pre-encoded, the rest made per batch
const ctx = new EventManagerContext(serde, {} as WatcherRules, 'bench-state.', 'stream');
const stores = Array.from({ length: PARTITIONS }, (_, p) => new PartitionStore<ManagedSubscriber>(p, codec));
const before = settle();

let cpu = 0;
let outputs = 0;
let changelog = 0;
let changelogBytes = 0;
for (let b = 0; b < events; b += BATCH) {
  const batch = b < inputs.length ? inputs.slice(b, b + BATCH) : Array.from({ length: Math.min(BATCH, events - b) }, (_, j) => input(b + j));
  const c0 = process.cpuUsage();
  const out: OutputRecord[] = [];
  for (const r of batch) {
    const store = stores[r.partition]!;
    const m = store.getForUpdate(r.key, forUpdate) ?? newSubscriber(r.key);
    if (await signalingEvents.handle(ctx, r.partition, r.key, r.value, m, out)) {
      store.put(r.key, m);
      ctx.reschedule(r.partition, r.key, m);
    }
  }
  outputs += out.length;
  for (const st of stores) {
    for (const [, bytes] of st.pendingEncoded(encode)) {
      changelog++;
      changelogBytes += bytes?.length ?? 0;
    }
    st.commit();
  }
  for (const w of ctx.duplicates.values()) w.commit(); // as enlisted in the stores, but droppable for the measurement
  const c = process.cpuUsage(c0);
  cpu += c.user + c.system;
}
const windowIds = [...ctx.duplicates.values()].reduce((n, w) => n + w.size, 0);
ctx.duplicates.clear(); // bounded per partition, not per subscriber: not counted
const after = settle();
if (inputs.length < 0) console.log(inputs); // the pre-encoded inputs stay alive through the measurement (counted in `before`)
const held = stores.reduce((n, s) => n + s.size, 0);
const perSub = (x: number) => (x / held).toFixed(0);
console.log(
  `# event-manager state, ${held.toLocaleString('en')} subscribers, ${ROUNDS} events each, ${OBJECTS ? 'objects store' : 'compact store'} (node ${process.version}${gc ? '' : ', no --expose-gc: heap figures without a forced GC'})`,
);
console.log(
  `hot path: ${events.toLocaleString('en')} events in ${(cpu / 1e6).toFixed(1)} s CPU = ${Math.round(events / (cpu / 1e6)).toLocaleString('en')} events per CPU-second ` +
    `(${outputs.toLocaleString('en')} outputs, ${changelog.toLocaleString('en')} changelog records, ${(changelogBytes / Math.max(1, changelog)).toFixed(0)} B avg)`,
);
console.log(
  `memory per subscriber: heap ${perSub(after.heap - before.heap)} B + off-heap ${perSub(after.off - before.off)} B = ${perSub(after.heap - before.heap + after.off - before.off)} B ` +
    `(not counted: the duplicate windows' ${windowIds.toLocaleString('en')} ids; timers indexed: ${[...ctx.timers.values()].reduce((n, t) => n + t.size, 0).toLocaleString('en')})`,
);
