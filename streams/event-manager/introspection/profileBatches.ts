// Profiles for the call-handling query, looked up in batches: at 2,000
// decisions/s one database round trip per decision (two queries on a pool of
// two, for each cache miss) queues requests behind each other; the keys asked
// within one turn of the event loop go out as one lookup instead.
import type { UserProfiles } from '../../../subscriber/availability/availabilityProfile.ts';
import { DEFAULT_PROFILES } from '../../../subscriber/availability/settingsProfile.ts';

type Lookup = (keys: string[]) => Promise<Map<string, UserProfiles>>;

interface Waiter {
  resolve(p: UserProfiles): void;
  reject(err: unknown): void;
}

export class ProfileBatches {
  private pending = new Map<string, Waiter[]>();
  private scheduled = false;
  /** Lookups made (each covering every key asked since the previous one). */
  lookups = 0;

  constructor(private readonly lookup: Lookup) {}

  get(key: string): Promise<UserProfiles> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    this.lookups++;
    try {
      const found = await this.lookup([...batch.keys()]);
      for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key) ?? DEFAULT_PROFILES);
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    }
  }
}
