// Scheduling of NOTIFY deliveries:
// - DialogScheduler: one job in flight per dialog, in submission order;
//   different dialogs run concurrently; optional per-dialog minimum interval
//   between job starts (RFC 6446-style rate limit), and a cap on queued jobs
//   per dialog: beyond it the oldest queued job that may be skipped is
//   superseded (RFC 6665 §4.2.2 rate control — presence NOTIFYs carry full
//   state, so the newest says all; CSeq still only increases, gaps are
//   allowed, RFC 3261 §12.2.1.1). The running job and the newest are never skipped.
// - Semaphore: bounds concurrent SIP transactions over all dialogs. Jobs take
//   it per attempt only, so a dialog sleeping in backoff holds no slot; and a
//   transaction unanswered after slowAfterMs moves to a separate, bounded slow
//   lane, so dead watchers waiting for Timer F (32 s) do not hold the slots
//   live ones need (a restart with a backlog for gone watchers, issue 11.5).
// - OffsetTracker: per partition, the offset that may be committed once every
//   record before it is finished (completion may be out of order across dialogs).
import { setTimeout as realSleep } from 'node:timers/promises';

interface SlowLane {
  /** A holder unfinished after this long gives its slot back and waits in the slow lane. */
  readonly slowAfterMs: number;
  /** At most this many holders in the slow lane; when it is full, slow holders keep their slot. */
  readonly slowLimit: number;
}

export class Semaphore {
  private active = 0;
  private slowHolders = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly limit: number,
    private readonly lane?: SlowLane,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be >= 1, not ${limit}`);
    if (lane && (!(lane.slowAfterMs >= 0) || !Number.isInteger(lane.slowLimit) || lane.slowLimit < 0))
      throw new RangeError(`slow lane needs slowAfterMs >= 0 and an integer slowLimit >= 0`);
  }

  /** Holders in the slow lane (unanswered longer than slowAfterMs). */
  get slow(): number {
    return this.slowHolders;
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
    const lane = this.lane;
    if (!lane) {
      try {
        return await fn();
      } finally {
        this.release();
      }
    }
    let where: 'slot' | 'slow' | 'done' = 'slot';
    // Checked again when the slow lane frees up, so a slow holder waiting for room moves as soon as there is some.
    const moveToSlowLane = () => {
      if (where !== 'slot') return;
      if (this.slowHolders >= lane.slowLimit) {
        this.slowWaiters.add(moveToSlowLane);
        return;
      }
      where = 'slow';
      this.slowHolders++;
      this.release();
    };
    const timer = setTimeout(moveToSlowLane, lane.slowAfterMs);
    timer.unref?.();
    try {
      return await fn();
    } finally {
      clearTimeout(timer);
      this.slowWaiters.delete(moveToSlowLane);
      if (where === 'slot') this.release();
      else {
        this.slowHolders--;
        const [next] = this.slowWaiters;
        if (next) {
          this.slowWaiters.delete(next);
          next();
        }
      }
      where = 'done';
    }
  }

  private readonly slowWaiters = new Set<() => void>();
}

/** A job; one with `superseded` may be skipped for a newer job of its dialog, and is then told so instead of run. */
interface Job {
  readonly run: () => Promise<void>;
  readonly superseded?: () => Promise<void>;
}

interface DialogState {
  readonly queue: Job[];
  running: boolean;
  /** When the last job of this dialog started (ms, Date.now()). */
  lastStart: number;
}

interface DialogSchedulerOptions {
  /** Minimum time between the starts of two jobs of one dialog; 0 = no limit. */
  readonly minIntervalMs?: number;
  /** Queued (not running) jobs kept per dialog; beyond it the oldest skippable one is superseded. Default: no cap. 1 = only the latest. */
  readonly maxQueuedPerDialog?: number;
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
  /** Jobs skipped for a newer one of their dialog so far. */
  superseded = 0;
  private readonly maxQueued: number;

  constructor(private readonly o: DialogSchedulerOptions = {}) {
    this.minIntervalMs = o.minIntervalMs ?? 0;
    if (!Number.isFinite(this.minIntervalMs) || this.minIntervalMs < 0) throw new RangeError(`minIntervalMs must be >= 0, not ${this.minIntervalMs}`);
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? realSleep;
    this.maxQueued = o.maxQueuedPerDialog ?? Infinity;
    if (!(this.maxQueued >= 1)) throw new RangeError(`maxQueuedPerDialog must be >= 1, not ${this.maxQueued}`);
  }

  /** Jobs submitted and not finished. */
  get pending(): number {
    return this.pendingJobs;
  }

  /** Dialogs with state held (running, queued or inside their rate-limit window). */
  get dialogCount(): number {
    return this.dialogs.size;
  }

  submit(dialog: string, job: Job | (() => Promise<void>)): void {
    let d = this.dialogs.get(dialog);
    if (!d) {
      d = { queue: [], running: false, lastStart: -Infinity };
      this.dialogs.set(dialog, d);
    }
    d.queue.push(typeof job === 'function' ? { run: job } : job);
    this.pendingJobs++;
    // The newest job (just pushed) is never the one skipped.
    while (d.queue.length > this.maxQueued) {
      const i = d.queue.findIndex((j, k) => j.superseded !== undefined && k < d.queue.length - 1);
      if (i < 0) break;
      const [old] = d.queue.splice(i, 1);
      this.superseded++;
      void this.settle(old!.superseded!);
    }
    if (!d.running) void this.drain(dialog, d);
  }

  /** Runs a superseded job's report outside its dialog's order (it sends nothing). */
  private async settle(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.o.onError?.(err);
    }
    this.jobDone();
  }

  private jobDone(): void {
    this.pendingJobs--;
    if (this.pendingJobs === 0) for (const w of this.idleWaiters.splice(0)) w();
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
          await job.run();
        } catch (err) {
          this.o.onError?.(err);
        }
        this.jobDone();
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
