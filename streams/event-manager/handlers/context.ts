// What the event manager's handlers share: codecs, watcher rules, stats, the
// current batch's availability settings, and per owned partition its timer index
// and stream time. A handler applies the records of one input topic.
import type { OutputRecord, ProcessContext } from '../../../kafka/transactionalProcessor.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import { topicName, type TopicName } from '../../../schemas/topology.ts';
import type { WatcherRules } from '../authorization/watcherRules.ts';
import type { AvailabilitySettings } from '../presence/connectability.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { nextDue } from '../presence/timers.ts';
import { nextExpiry } from '../subscriptions/watcherDialog.ts';
import { TimerIndex } from '../timerIndex.ts';

export interface EventManagerStats {
  signals: number;
  subscribes: number;
  reports: number;
  publishes: number;
  presenceChanges: number;
  notifies: number;
  timersFired: number;
  deadLetters: number;
}

/** A dependency (PostgreSQL) failed, not the record: the batch is aborted and re-read, the record is not dead-lettered. */
export class DependencyUnavailable extends Error {}

/** Applies the records of one input topic to their subscribers. */
export interface TopicHandler {
  readonly topic: TopicName;
  /** Its records change presence: their subscribers' availability settings are loaded with the batch. */
  readonly needsAvailability: boolean;
  /** Decodes a record and applies it to its subscriber `m`; resolves false when `m` did not change (nothing to store). */
  handle(ctx: EventManagerContext, partition: number, key: string, value: Buffer, m: ManagedSubscriber, out: OutputRecord[]): Promise<boolean>;
}

export class EventManagerContext {
  readonly stats: EventManagerStats = { signals: 0, subscribes: 0, reports: 0, publishes: 0, presenceChanges: 0, notifies: 0, timersFired: 0, deadLetters: 0 };
  /** The current batch's subscribers' availability settings (one query per batch). */
  availability = new Map<string, AvailabilitySettings>();
  readonly timers = new Map<number, TimerIndex>();
  /** Newest event time seen per partition: the clock of timers in 'stream' mode. */
  readonly streamTime = new Map<number, number>();

  constructor(
    readonly serde: RecordSerde,
    readonly rules: WatcherRules,
    private readonly topicPrefix: string,
    private readonly timerClock: 'stream' | 'wall',
  ) {}

  topic(name: TopicName): string {
    return topicName(this.topicPrefix, name);
  }

  /** Now, for partition `p`'s timers. */
  clock(p: number): number {
    return this.timerClock === 'wall' ? Date.now() : (this.streamTime.get(p) ?? 0);
  }

  advanceStream(p: number, ms: number): void {
    if (ms > (this.streamTime.get(p) ?? 0)) this.streamTime.set(p, ms);
  }

  /** A subscriber changed: its next timer. */
  reschedule(p: number, key: string, m: ManagedSubscriber): void {
    const due = [nextDue(m.presence), nextExpiry(m.watchers)].filter((x): x is number => typeof x === 'number');
    let index = this.timers.get(p);
    if (!index) this.timers.set(p, (index = new TimerIndex()));
    index.schedule(key, due.length ? Math.min(...due) : null);
  }

  /** A partition's timer index and stream time, from its committed (restored) state. */
  rebuildTimers(p: number, stores: ProcessContext<ManagedSubscriber>): void {
    const index = new TimerIndex();
    this.timers.set(p, index);
    for (const [key, m] of stores.store(p).entries()) {
      if (m.presence.lastEventTime) this.advanceStream(p, m.presence.lastEventTime);
      const due = [nextDue(m.presence), nextExpiry(m.watchers)].filter((x): x is number => typeof x === 'number');
      if (due.length) index.schedule(key, Math.min(...due));
    }
  }

  /** A partition left this member: its timers go with it. */
  forget(p: number): void {
    this.timers.delete(p);
    this.streamTime.delete(p);
  }
}
