// The sink's commit points across a rebalance, without Kafka: the consumer's
// rebalance callback and records are driven by hand, deliveries are gated, and
// commits are captured. Records of a batch fetched before a revoke must not
// move a commit point, and a partition re-read from its last commit (eager
// re-assignment) must not let a stale record's finish commit over unfinished ones.
import Kafka from 'node-rdkafka';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../config/settings.ts';
import type { Message } from '../../../kafka/rdkafkaPromises.ts';
import { SipTransport } from '../../../protocols/sip/transport/index.ts';
import type { DeliveryResult } from './deliverer.ts';
import { mayBeSuperseded, NotifySink } from './notifySink.ts';
import { notifyRecord } from '../../../test/support/notifyRecords.ts';

const TOPIC = 'presence.notify-requests';
const COMMIT_INTERVAL_MS = 30;
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type TopicOffset = { topic: string; partition: number; offset: number };
type Internals = {
  rebalance(c: unknown, err: { code: number }, a: Array<{ topic: string; partition: number }>): void;
  accept(m: Message): Promise<void>;
  consumer: { commit(tpo: TopicOffset | TopicOffset[]): void };
  deliverer: { deliver(n: { notifyId: string }): Promise<DeliveryResult> };
};

async function harness() {
  const transport = await SipTransport.listen({ host: '127.0.0.1', port: 0 });
  cleanup.push(() => transport.close());
  const serde = { decode: async (_schema: string, b: Buffer) => notifyRecord({ notifyId: `n-${b.toString()}` }), encode: () => Buffer.from('x') };
  const producer = { send: async () => {} };
  const Ctor = NotifySink as unknown as new (...a: unknown[]) => NotifySink;
  const sink = new Ctor(loadSettings(), transport, serde, producer, { commitIntervalMs: COMMIT_INTERVAL_MS });
  cleanup.push(() => sink.layer.close());
  const inner = sink as unknown as Internals;
  const commits: number[] = [];
  /** Commit requests sent to the broker (one may carry several partitions). */
  const requests: TopicOffset[][] = [];
  inner.consumer.commit = (tpo) => {
    const list = Array.isArray(tpo) ? tpo : [tpo];
    requests.push(list);
    for (const t of list) commits.push(t.offset);
  };
  const gates = new Map<string, () => void>();
  const delivered: string[] = [];
  inner.deliverer = {
    deliver: (n) =>
      new Promise<DeliveryResult>((resolve) =>
        gates.set(n.notifyId, () => {
          delivered.push(n.notifyId);
          resolve({ outcome: 'delivered', statusCode: 200, attempts: 1, reason: null, bytes: Buffer.alloc(0) });
        }),
      ),
  };
  const fakeConsumer = { rebalanceProtocol: () => 'EAGER', assign() {}, unassign() {} };
  const { ERR__ASSIGN_PARTITIONS, ERR__REVOKE_PARTITIONS } = Kafka.CODES.ERRORS;
  const p0 = [{ topic: TOPIC, partition: 0 }];
  const settle = () => new Promise((r) => setTimeout(r, COMMIT_INTERVAL_MS + 20));
  return {
    sink,
    commits,
    requests,
    settle,
    delivered,
    assign: () => inner.rebalance(fakeConsumer, { code: ERR__ASSIGN_PARTITIONS }, p0),
    revoke: () => inner.rebalance(fakeConsumer, { code: ERR__REVOKE_PARTITIONS }, p0),
    accept: (offset: number) =>
      inner.accept({ topic: TOPIC, partition: 0, offset, key: Buffer.from('k'), value: Buffer.from(String(offset)), size: 1 } as Message),
    /** Lets the delivery of the job at the head of the dialog's queue finish. */
    release: async (id: string, wait = true) => {
      for (let i = 0; i < 2000 && !gates.has(id); i++) await new Promise((r) => setImmediate(r));
      gates.get(id)!();
      gates.delete(id);
      if (wait) await settle();
      else for (let i = 0; i < 5; i++) await Promise.resolve(); // the job's own continuations only, less than an interval
    },
  };
}

describe('notify sink commit points across a rebalance', () => {
  it('a record of a partition no longer assigned (fetched before the revoke) is left to the new owner: not delivered, nothing committed', async () => {
    const h = await harness();
    h.assign();
    h.revoke();
    await h.accept(5);
    expect(h.sink.scheduler.pending).toBe(0);
    expect(h.commits).toEqual([]);
  });

  it('re-assigned and re-read from the last commit: a stale record finishing first does not commit over the re-read ones', async () => {
    const h = await harness();
    h.assign();
    h.revoke();
    h.assign(); // eager: the same partition comes back; the consumer resumes at the last commit (0)
    await h.accept(3); // left over from the batch fetched before the revoke
    for (const o of [0, 1, 2, 3]) await h.accept(o); // the re-read
    await h.release('n-3'); // the stale copy of 3 is delivered first (same dialog, submission order)
    expect(h.commits).toEqual([]); // 0..2 are not finished: nothing may be committed yet
    for (const id of ['n-0', 'n-1', 'n-2', 'n-3']) await h.release(id);
    expect(h.commits.at(-1)).toBe(4);
    expect(h.delivered).toEqual(['n-3', 'n-0', 'n-1', 'n-2', 'n-3']);
  });
});

describe('notify sink commits', () => {
  it('records finishing one after another are committed together, one request per interval, not one per record (the coordinator fenced the sink under a commit per NOTIFY)', async () => {
    const h = await harness();
    h.assign();
    // 50: within the per-dialog queue bound (all records share a key, so one dialog).
    for (let o = 0; o < 50; o++) await h.accept(o);
    for (let o = 0; o < 50; o++) await h.release(`n-${o}`, false);
    await h.settle();
    expect(h.commits.at(-1)).toBe(50);
    expect(h.requests.length).toBeLessThan(10);
  });

  it('a revoke commits what its partitions finished before letting them go', async () => {
    const h = await harness();
    h.assign();
    await h.accept(0);
    // Finished, but the commit interval has not passed when the revoke comes.
    await h.release('n-0', false);
    await new Promise((r) => setTimeout(r, 2));
    expect(h.commits).toEqual([]);
    h.revoke();
    expect(h.commits).toEqual([1]);
  });
});

describe('which NOTIFYs --coalesce may skip', () => {
  it('a presence NOTIFY (full state) may be superseded; a dialog-info, watcher-info or group NOTIFY (partial state follows) never', () => {
    expect(mayBeSuperseded(notifyRecord({ event: 'presence' }))).toBe(true);
    expect(mayBeSuperseded(notifyRecord({ event: 'dialog' }))).toBe(false);
    expect(mayBeSuperseded(notifyRecord({ event: 'presence.winfo' }))).toBe(false);
    expect(mayBeSuperseded(notifyRecord({ presentity: 'group:sales' }))).toBe(false);
  });
});
