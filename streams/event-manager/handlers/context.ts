// What the event manager's handlers share: codecs, watcher rules, stats, the
// current batch's availability settings, and per owned partition its timer indexes
// and stream time. A handler applies the records of one input topic.
//
// Two clocks, kept apart (in 'stream' mode): presence timers (registration and
// publication expiry, stale state, stuck calls) run on stream time, the newest
// signaling/PUBLISH event time of the partition; watchers' dialogs expire on the
// newest of that and the SUBSCRIBEs' own (front-end wall-clock) times. A SUBSCRIBE
// does not move stream time: it would jump a replay's clock to today and fire its
// presence timers ahead of older signaling. In 'wall' mode both are the wall clock.
import { OutageError } from '../../../kafka/errorClass.ts';
import type { OutputRecord, ProcessContext } from '../../../kafka/transactionalProcessor.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import { topicName, type TopicName } from '../../../schemas/topology.ts';
import type { WatcherRules } from '../authorization/watcherRules.ts';
import type { UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import type { ManagedSubscriber } from '../managedSubscriber.ts';
import { nextDue } from '../presence/timers.ts';
import { nextLocationAskAt, type LocationPolicy } from '../presence/locationDemand.ts';
import { nextExpiry } from '../subscriptions/watcherDialog.ts';
import { TimerIndex } from '../timerIndex.ts';
import { DEFAULT_DUPLICATE_WINDOW, DuplicateWindow, type DuplicateWindowLimits } from '../presence/duplicateWindow.ts';

export interface EventManagerStats {
  signals: number;
  subscribes: number;
  reports: number;
  publishes: number;
  /** A presentity's answers to watchers applied (watcher-consents). */
  consents: number;
  presenceChanges: number;
  notifies: number;
  timersFired: number;
  /** availability-profiles records applied (handlers/profileChanges.ts). */
  profileChanges: number;
  /** availability-profiles records dropped as a repeat or older than the version applied (the relay is at-least-once). */
  profileRepeats: number;
  deadLetters: number;
  /** Signaling events dropped as repeats of a recent event id (duplicateWindow.ts). */
  duplicates: number;
  /** The dead letters by their reason (deadLetterForFailure's), for presence_event_manager_dead_letters_total{reason}. */
  deadLetterReasons: Record<string, number>;
  /** Location requests written, by what caused them (a watcher's SUBSCRIBE, or the position's refresh timer): presence_event_manager_location_requests_total{cause}. */
  locationRequests: { subscribe: number; refresh: number };
  /** Messaging facts (subscriptions/messageWaiting.ts): applied, repeats told once, held messages dropped past the bound. */
  messaging: { applied: number; repeats: number; dropped: number };
}

/** A dependency (PostgreSQL) failed, not the record: the batch is aborted and re-read, the record is not dead-lettered. */
export class DependencyUnavailable extends OutageError {}

/** Applies the records of one input topic to their subscribers. */
export interface TopicHandler {
  readonly topic: TopicName;
  /** Its records change presence: their subscribers' availability settings are loaded with the batch. */
  readonly needsAvailability: boolean;
  /** Decodes a record and applies it to its subscriber `m`; resolves false when `m` did not change (nothing to store). */
  handle(ctx: EventManagerContext, partition: number, key: string, value: Buffer, m: ManagedSubscriber, out: OutputRecord[]): Promise<boolean>;
  /** A tombstone on a topic that uses them (others dead-letter it as an empty value): true when the subscriber is gone, its state deleted. */
  /** Only its tombstones matter: other records are skipped before the subscriber's state is read. */
  readonly tombstonesOnly?: boolean;
  handleTombstone?(ctx: EventManagerContext, partition: number, key: string, m: ManagedSubscriber, out: OutputRecord[]): boolean;
}

export class EventManagerContext {
  readonly stats: EventManagerStats = {
    signals: 0,
    subscribes: 0,
    reports: 0,
    publishes: 0,
    consents: 0,
    presenceChanges: 0,
    notifies: 0,
    timersFired: 0,
    locationRequests: { subscribe: 0, refresh: 0 },
    profileChanges: 0,
    profileRepeats: 0,
    deadLetters: 0,
    duplicates: 0,
    deadLetterReasons: {},
    messaging: { applied: 0, repeats: 0, dropped: 0 },
  };
  /** The current batch's subscribers' availability profiles (one lookup per batch). */
  availability = new Map<string, UserProfiles>();
  /** A change record's profiles were applied: later lookups of this process see them without the database (eventManager.ts primes its AvailabilityStore). */
  profilesApplied: (key: string, profiles: UserProfiles) => void = () => {};
  /** Presence timers per partition, on `clock(p)`. */
  readonly timers = new Map<number, TimerIndex>();
  /** Dialog expiries per partition, on `dialogClock(p)`. */
  readonly dialogTimers = new Map<number, TimerIndex>();
  /** Recent signaling event ids per partition (duplicateWindow.ts); the batch enlists each in its store. */
  readonly duplicates = new Map<number, DuplicateWindow>();
  duplicateLimits: DuplicateWindowLimits = DEFAULT_DUPLICATE_WINDOW;
  /** Timer-index rebuilds in progress, per partition (rebuildTimers). */
  private readonly rebuilds = new Map<number, TimerRebuild>();
  /** Per partition, its subscribers that have watchers and how many (the dialogs gauge; the store keeps values encoded, so it is not scanned). */
  readonly watched = new Map<number, Map<string, number>>();
  /** Newest event time seen per partition: the clock of presence timers in 'stream' mode. */
  readonly streamTime = new Map<number, number>();
  /** Newest SUBSCRIBE time seen per partition: with stream time, the clock of dialogs in 'stream' mode. */
  readonly subscribeTime = new Map<number, number>();
  /** A position older than this is asked for again when a watcher allowed location subscribes (settings eventManager.locationMaxAgeS). */
  locationMaxAgeMs = 900_000;
  /** At most one location request per subscriber this often (settings eventManager.locationMinIntervalS). */
  locationMinIntervalMs = 60_000;

  get locationPolicy(): LocationPolicy {
    return { maxAgeMs: this.locationMaxAgeMs, minIntervalMs: this.locationMinIntervalMs };
  }

  constructor(
    readonly serde: RecordSerde,
    readonly rules: WatcherRules,
    private readonly topicPrefix: string,
    private readonly timerClock: 'stream' | 'wall',
  ) {}

  topic(name: TopicName): string {
    return topicName(this.topicPrefix, name);
  }

  /** Now, for partition `p`'s presence timers. */
  clock(p: number): number {
    return this.timerClock === 'wall' ? Date.now() : (this.streamTime.get(p) ?? 0);
  }

  /** Now, for partition `p`'s watchers' dialogs. */
  dialogClock(p: number): number {
    return this.timerClock === 'wall' ? Date.now() : Math.max(this.streamTime.get(p) ?? 0, this.subscribeTime.get(p) ?? 0);
  }

  advanceStream(p: number, ms: number): void {
    if (ms > (this.streamTime.get(p) ?? 0)) this.streamTime.set(p, ms);
  }

  /** A SUBSCRIBE's time: moves the dialogs' clock only. */
  advanceSubscriptions(p: number, ms: number): void {
    if (ms > (this.subscribeTime.get(p) ?? 0)) this.subscribeTime.set(p, ms);
  }

  /**
   * A subscriber changed: its next presence timer (presence's own, or an availability rule boundary) and its next
   * dialog timer (an expiry, or the position's refresh for a watcher allowed it: on the dialogs' clock, as SUBSCRIBEs ask).
   */
  reschedule(p: number, key: string, m: ManagedSubscriber): void {
    // nextDue says "none" with null: kept in, Math.min made it 0, a timer due at once for every subscriber without one.
    const due = [nextDue(m.presence), m.availabilityBoundaryAt].filter((t): t is number => typeof t === 'number');
    indexOf(this.timers, p).schedule(key, due.length ? Math.min(...due) : null);
    const dialogDue = [nextExpiry(m.watchers), nextLocationAskAt(m.presence, m.locationAskedAt, m.watchers.values(), this.locationPolicy) ?? undefined].filter(
      (t): t is number => t !== undefined,
    );
    indexOf(this.dialogTimers, p).schedule(key, dialogDue.length ? Math.min(...dialogDue) : null);
    this.rebuilds.get(p)?.touched.add(key);
    let watched = this.watched.get(p);
    if (m.watchers.size > 0) {
      if (!watched) this.watched.set(p, (watched = new Map()));
      watched.set(key, m.watchers.size);
    } else watched?.delete(key);
  }

  /** Partition `p`'s window of recent event ids. */
  duplicateWindow(p: number): DuplicateWindow {
    let w = this.duplicates.get(p);
    if (!w) this.duplicates.set(p, (w = new DuplicateWindow(this.duplicateLimits)));
    return w;
  }

  /** Watchers' dialogs held in partition `p` (as of the last write or rebuild). */
  dialogsHeld(p: number): number {
    let n = 0;
    for (const count of this.watched.get(p)?.values() ?? []) n += count;
    return n;
  }

  /**
   * A partition's timer indexes and stream time, from its restored state: the first
   * TIMER_REBUILD_CHUNK keys at once, the rest in chunks between event-loop turns, so
   * the partition goes live at once (at 1M subscribers the decode of every state took
   * seconds, and an abort rebuilt every partition in one go). Until the scan has passed
   * a key, its timer can only fire late, never early (the index lacks it, the stream
   * clock is at most behind); a key a batch reschedules meanwhile is not scanned again
   * (its entry is newer than what the scan would read). Resolves when the scan ends.
   */
  rebuildTimers(p: number, stores: ProcessContext<ManagedSubscriber>): Promise<void> {
    this.rebuilds.get(p)?.cancel();
    this.timers.set(p, new TimerIndex());
    this.dialogTimers.set(p, new TimerIndex());
    this.watched.delete(p);
    const keys = [...stores.store(p).keys()];
    const scan = new TimerRebuild();
    this.rebuilds.set(p, scan);
    const chunk = (from: number): boolean => {
      let store;
      try {
        store = stores.store(p);
      } catch {
        return false; // the partition went: forget() dropped its timers
      }
      for (const key of keys.slice(from, from + TIMER_REBUILD_CHUNK)) {
        if (scan.touched.has(key)) continue;
        const m = store.get(key);
        if (!m) continue;
        if (m.presence.lastEventTime) this.advanceStream(p, m.presence.lastEventTime);
        this.reschedule(p, key, m);
      }
      return true;
    };
    const done = () => {
      if (this.rebuilds.get(p) === scan) this.rebuilds.delete(p);
    };
    if (!chunk(0) || keys.length <= TIMER_REBUILD_CHUNK) {
      done();
      return Promise.resolve();
    }
    return (async () => {
      for (let from = TIMER_REBUILD_CHUNK; from < keys.length; from += TIMER_REBUILD_CHUNK) {
        await new Promise<void>((r) => setImmediate(r));
        if (scan.cancelled || !chunk(from)) return;
      }
      done();
    })();
  }

  /** Partitions whose timer index is still being rebuilt (metrics, tests). */
  get rebuildingTimers(): number[] {
    return [...this.rebuilds.keys()].sort((a, b) => a - b);
  }

  /** A partition left this member: its timers go with it. */
  forget(p: number): void {
    this.rebuilds.get(p)?.cancel();
    this.rebuilds.delete(p);
    this.timers.delete(p);
    this.dialogTimers.delete(p);
    this.watched.delete(p);
    this.duplicates.delete(p);
    this.streamTime.delete(p);
    this.subscribeTime.delete(p);
  }
}

/** Keys a rebuild scans per event-loop turn (about 10–20 ms of decoding on this project's machine). */
export const TIMER_REBUILD_CHUNK = 2000;

/** One partition's rebuild in progress: keys rescheduled since it began (newer than its read), and whether a newer rebuild or a revoke ended it. */
class TimerRebuild {
  readonly touched = new Set<string>();
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
  }
}

function indexOf(indexes: Map<number, TimerIndex>, p: number): TimerIndex {
  let index = indexes.get(p);
  if (!index) indexes.set(p, (index = new TimerIndex()));
  return index;
}
