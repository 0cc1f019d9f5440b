import { describe, expect, it } from 'vitest';
import { DialogScheduler, OffsetTracker, Semaphore } from './scheduling.ts';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('DialogScheduler', () => {
  it('runs one job per dialog at a time, in order; other dialogs are not held up by a stuck one', async () => {
    const s = new DialogScheduler();
    const log: string[] = [];
    const stuck = deferred();
    s.submit('dead', async () => {
      log.push('dead-1 start');
      await stuck.promise;
      log.push('dead-1 end');
    });
    s.submit('dead', async () => void log.push('dead-2'));
    for (const i of [1, 2, 3])
      s.submit('alive', async () => {
        log.push(`alive-${i} start`);
        await tick(2);
        log.push(`alive-${i} end`);
      });
    await tick(30);
    expect(log).toEqual(['dead-1 start', 'alive-1 start', 'alive-1 end', 'alive-2 start', 'alive-2 end', 'alive-3 start', 'alive-3 end']);
    expect(s.pending).toBe(2);
    stuck.resolve();
    await s.idle();
    expect(log.slice(-2)).toEqual(['dead-1 end', 'dead-2']);
    expect(s.dialogCount).toBe(0);
  });

  it('a failing job does not stop its dialog', async () => {
    const errors: unknown[] = [];
    const s = new DialogScheduler({ onError: (e) => errors.push(e) });
    const done: number[] = [];
    s.submit('d', async () => {
      throw new Error('boom');
    });
    s.submit('d', async () => void done.push(2));
    await s.idle();
    expect(done).toEqual([2]);
    expect(errors).toHaveLength(1);
  });

  it('rate limit: at most one job start per dialog per interval; later ones are delayed, not dropped', async () => {
    const s = new DialogScheduler({ minIntervalMs: 40 });
    const starts: Record<string, number[]> = { a: [], b: [] };
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) for (const d of ['a', 'b']) s.submit(d, async () => void starts[d]!.push(Date.now() - t0));
    await s.idle();
    for (const d of ['a', 'b']) {
      const st = starts[d]!;
      expect(st).toHaveLength(3);
      expect(st[0]!).toBeLessThan(30); // the first one is not delayed
      expect(st[1]! - st[0]!).toBeGreaterThanOrEqual(38);
      expect(st[2]! - st[1]!).toBeGreaterThanOrEqual(38);
    }
    expect(s.rateLimited).toBe(4);
  });
});

describe('DialogScheduler coalescing (RFC 6665 rate control, issue 11.6)', () => {
  it('a queued job superseded by a newer one of its dialog is skipped and reported; the running one and the newest always run', async () => {
    const s = new DialogScheduler({ maxQueuedPerDialog: 1 });
    const ran: string[] = [];
    const superseded: string[] = [];
    const first = deferred();
    const job = (id: string, wait?: Promise<void>) => ({
      run: async () => {
        ran.push(id);
        await wait;
      },
      superseded: async () => void superseded.push(id),
    });
    s.submit('d', job('1', first.promise));
    for (const id of ['2', '3', '4']) s.submit('d', job(id));
    s.submit('other', job('x'));
    await tick(5);
    expect(superseded).toEqual(['2', '3']);
    first.resolve();
    await s.idle();
    expect(ran).toEqual(['1', 'x', '4']);
    expect(s.superseded).toBe(2);
  });

  it('a job without a superseded hook (a partial-state group NOTIFY) is never skipped', async () => {
    const s = new DialogScheduler({ maxQueuedPerDialog: 1 });
    const ran: string[] = [];
    const first = deferred();
    s.submit('d', async () => {
      ran.push('1');
      await first.promise;
    });
    for (const id of ['2', '3']) s.submit('d', async () => void ran.push(id));
    first.resolve();
    await s.idle();
    expect(ran).toEqual(['1', '2', '3']);
  });
});

describe('Semaphore', () => {
  it("a holder slower than slowAfterMs moves to the bounded slow lane: a dead watcher's transaction does not hold a slot live ones need (issue 11.5)", async () => {
    const sem = new Semaphore(1, { slowAfterMs: 20, slowLimit: 1 });
    const dead = deferred();
    const dead2 = deferred();
    const order: string[] = [];
    const a = sem.with(() => dead.promise.then(() => void order.push('dead-1 end')));
    const b = sem.with(() => dead2.promise.then(() => void order.push('dead-2 end')));
    const c = sem.with(async () => void order.push('live'));
    await tick(60);
    // dead-1 moved to the slow lane after 20 ms; dead-2 then holds the only slot (the slow lane is full), so live waits.
    expect(order).toEqual([]);
    expect(sem.slow).toBe(1);
    dead.resolve();
    await tick(60); // the slow lane frees up: dead-2 moves there, live runs
    expect(order).toEqual(['dead-1 end', 'live']);
    dead2.resolve();
    await Promise.all([a, b, c]);
    expect(sem.inUse).toBe(0);
    expect(sem.slow).toBe(0);
  });

  it('bounds concurrency and hands slots over in FIFO order', async () => {
    const sem = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        sem.with(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await tick(3);
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(sem.inUse).toBe(0);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe('OffsetTracker', () => {
  it('commits only over a finished prefix, whatever the completion order', () => {
    const t = new OffsetTracker();
    for (const o of [10, 11, 12, 13]) t.track(o);
    expect(t.finish(12)).toBeUndefined();
    expect(t.finish(11)).toBeUndefined();
    expect(t.finish(10)).toBe(13);
    expect(t.inFlight).toBe(1);
    expect(t.finish(13)).toBe(14);
    expect(t.commitOffset).toBe(14);
    expect(t.finish(99)).toBeUndefined();
  });
});
