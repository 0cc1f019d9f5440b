// The owner of a subscriber owns its reg-event dialog (issue 19): a member
// that runs the reg-event agent beside its event manager keeps the agent's
// subscribers to those whose key falls in a partition the event manager owns
// now. Checked on a short interval rather than hooked into the rebalance
// callbacks, so a moved partition's dialogs are ended here and started at the
// new owner within one interval, whatever the assignment protocol.
import { partitionOf } from '../../kafka/partitioner.ts';
import type { RegSubscriber } from '../../taps/reg-event/regEventAgent.ts';

export interface RegEventOwnershipOptions {
  readonly agent: { setSubscribers(list: readonly RegSubscriber[]): Promise<void> };
  /** Every provisioned IMS subscriber (all members get the same list). */
  readonly subscribers: readonly RegSubscriber[];
  /** Partitions of the keyed topics (settings topics.partitions). */
  readonly partitions: number;
  /** The partitions owned now (TransactionalProcessor.assignments fits). */
  readonly owned: () => readonly { partition: number }[];
  readonly intervalMs?: number;
}

export class RegEventOwnership {
  private current = '';
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly byPartition: Map<number, RegSubscriber[]>;

  constructor(private readonly o: RegEventOwnershipOptions) {
    this.byPartition = new Map();
    for (const s of o.subscribers) {
      const p = partitionOf(s.key, o.partitions);
      this.byPartition.set(p, [...(this.byPartition.get(p) ?? []), s]);
    }
    this.timer = setInterval(() => void this.sync(), o.intervalMs ?? 1000);
    this.timer.unref();
    void this.sync();
  }

  /** Brings the agent's subscribers in line with the owned partitions (calls are serialised). */
  sync(): Promise<void> {
    this.running = this.running.then(async () => {
      if (this.stopped) return;
      const parts = [...new Set(this.o.owned().map((a) => a.partition))].sort((a, b) => a - b);
      const signature = parts.join(',');
      if (signature === this.current) return;
      await this.o.agent.setSubscribers(parts.flatMap((p) => this.byPartition.get(p) ?? []));
      this.current = signature;
    });
    return this.running.catch(() => undefined);
  }

  /** No more changes; resolves once a change under way has finished (the agent can then be closed). */
  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    return this.running.catch(() => undefined);
  }
}
