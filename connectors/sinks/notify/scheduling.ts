// Scheduling of NOTIFY deliveries:
// - DialogScheduler: one job in flight per dialog, in submission order;
//   different dialogs run concurrently; optional per-dialog minimum interval
//   between job starts (RFC 6446-style rate limit: later NOTIFYs are delayed,
//   never dropped).
// - Semaphore: bounds concurrent SIP transactions over all dialogs. Jobs take
//   it per attempt only, so a dialog sleeping in backoff holds no slot and a
//   dead watcher cannot starve the others.
// - OffsetTracker: per partition, the offset that may be committed once every
//   record before it is finished (completion may be out of order across dialogs).
import { setTimeout as realSleep } from 'node:timers/promises';

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be >= 1, not ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next)
      next(); // the slot passes straight to the next waiter
    else this.active--;
  }

  async with<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

interface DialogState {
  readonly queue: Array<() => Promise<void>>;
  running: boolean;
  /** When the last job of this dialog started (ms, Date.now()). */
  lastStart: number;
}

interface DialogSchedulerOptions {
  /** Minimum time between the starts of two jobs of one dialog; 0 = no limit. */
  readonly minIntervalMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** A job that throws (should not happen: jobs handle their own errors). */
  readonly onError?: (err: unknown) => void;
}

export class DialogScheduler {
  private readonly dialogs = new Map<string, DialogState>();
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private pendingJobs = 0;
  private idleWaiters: Array<() => void> = [];
  /** Jobs delayed by the rate limit so far. */
  rateLimited = 0;

  constructor(private readonly o: DialogSchedulerOptions = {}) {
    this.minIntervalMs = o.minIntervalMs ?? 0;
    if (!Number.isFinite(this.minIntervalMs) || this.minIntervalMs < 0) throw new RangeError(`minIntervalMs must be >= 0, not ${this.minIntervalMs}`);
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? realSleep;
  }

  /** Jobs submitted and not finished. */
  get pending(): number {
    return this.pendingJobs;
  }

  /** Dialogs with state held (running, queued or inside their rate-limit window). */
  get dialogCount(): number {
    return this.dialogs.size;
  }

  submit(dialog: string, job: () => Promise<void>): void {
    let d = this.dialogs.get(dialog);
    if (!d) {
      d = { queue: [], running: false, lastStart: -Infinity };
      this.dialogs.set(dialog, d);
    }
    d.queue.push(job);
    this.pendingJobs++;
    if (!d.running) void this.drain(dialog, d);
  }

  /** Resolves when no job is pending. */
  idle(): Promise<void> {
    if (this.pendingJobs === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain(key: string, d: DialogState): Promise<void> {
    d.running = true;
    try {
      for (let job = d.queue.shift(); job; job = d.queue.shift()) {
        const wait = d.lastStart + this.minIntervalMs - this.now();
        if (this.minIntervalMs > 0 && wait > 0) {
          this.rateLimited++;
          await this.sleep(wait);
        }
        d.lastStart = this.now();
        try {
          await job();
        } catch (err) {
          this.o.onError?.(err);
        }
        this.pendingJobs--;
        if (this.pendingJobs === 0) for (const w of this.idleWaiters.splice(0)) w();
      }
    } finally {
      d.running = false;
    }
    this.forgetLater(key, d);
  }

  /** Keeps an idle dialog only as long as its rate-limit window needs it. */
  private forgetLater(key: string, d: DialogState): void {
    const remaining = d.lastStart + this.minIntervalMs - this.now();
    if (remaining <= 0) {
      if (this.dialogs.get(key) === d && d.queue.length === 0 && !d.running) this.dialogs.delete(key);
      return;
    }
    const t = setTimeout(() => {
      if (this.dialogs.get(key) === d && d.queue.length === 0 && !d.running) this.dialogs.delete(key);
    }, remaining);
    t.unref?.();
  }
}

/** Commit points of one partition: records finish in any order, commits only move over finished prefixes. */
export class OffsetTracker {
  /** offset → finished; insertion order is offset order (records of a partition arrive in order). */
  private readonly offsets = new Map<number, boolean>();
  private committable: number | undefined;

  private last: number | undefined;

  track(offset: number): void {
    this.offsets.set(offset, false);
    this.last = offset;
  }

  /** The highest offset tracked so far (records of a partition come in order). */
  get lastTracked(): number | undefined {
    return this.last;
  }

  /** Marks an offset finished; returns the new commit offset (next to read) when it advanced. */
  finish(offset: number): number | undefined {
    if (!this.offsets.has(offset)) return undefined;
    this.offsets.set(offset, true);
    let advanced: number | undefined;
    for (const [o, done] of this.offsets) {
      if (!done) break;
      this.offsets.delete(o);
      advanced = o + 1;
    }
    if (advanced !== undefined) this.committable = advanced;
    return advanced;
  }

  get inFlight(): number {
    return this.offsets.size;
  }

  get commitOffset(): number | undefined {
    return this.committable;
  }
}
