// "Event type no longer available / available again" (seed 004: when the last
// service transmitting an event disconnects, its subscribers are told, and again
// when one connects). A published type is available while some registered service
// publishes it; a derived type (from the deriver's topics) while events of it were
// logged within the silence window — its source producing. On each change of
// state a notice (event-type.available / event-type.unavailable, subject = the
// type) goes to service-events and reaches the services subscribed to that type.
// The state is kept in the database: a restart announces nothing twice; a type's
// first observation is recorded without a notice.
import type { ServiceEvent } from '../../schemas/generated/records.ts';
import { SERVICE_EVENT_TYPES, serviceEvent } from '../../schemas/serviceEventCatalogue.ts';
import type { EventStore } from './eventStore.ts';

export interface NoticeOptions {
  /** A derived type with no event for this long is announced unavailable. */
  silenceMs: number;
  checkMs: number;
  publish: (e: ServiceEvent) => Promise<void>;
  log?: (line: string) => void;
}

export class EventTypeNotices {
  readonly stats = { announced: 0, failures: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly o: NoticeOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.o.checkMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.check()
      .catch((err: Error) => {
        this.stats.failures++;
        this.o.log?.(`event type notices: ${err.message}; the next round retries`);
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** One round: each type's availability now, against what was recorded. */
  async check(now = Date.now()): Promise<void> {
    const [status, regs] = await Promise.all([this.store.typeStatus(), this.store.registrations()]);
    const published = new Set(regs.flatMap((r) => r.publishes));
    for (const t of SERVICE_EVENT_TYPES) {
      if (t.payload === 'notice') continue;
      const st = status.get(t.type);
      const seenRecently = st?.lastSeen !== null && st?.lastSeen !== undefined && now - st.lastSeen <= this.o.silenceMs;
      // A type both published and derived is available while either source is.
      const available = t.origin === 'published' ? published.has(t.type) : t.origin === 'both' ? published.has(t.type) || seenRecently : seenRecently;
      if (!st) {
        // First sight: recorded, not announced (nobody was told it existed).
        await this.store.setTypeAvailable(t.type, available);
        continue;
      }
      if (st.available === available) continue;
      // Published first, recorded after: a crash in between announces again (receivers dedup by id).
      const type = available ? 'event-type.available' : 'event-type.unavailable';
      await this.o.publish(
        serviceEvent(
          { eventId: `notice:${t.type}:${available ? 'available' : 'unavailable'}:${now}`, type, subject: t.type, time: now, source: 'service:event-service' },
          { eventType: t.type, available },
        ),
      );
      await this.store.setTypeAvailable(t.type, available);
      this.stats.announced++;
      this.o.log?.(`event type ${t.type} is ${available ? 'available again' : 'no longer available'}`);
    }
  }
}
