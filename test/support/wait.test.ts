import { describe, expect, it } from 'vitest';
import { eventually, sleep } from './wait.ts';

describe('eventually', () => {
  it('returns the first value a sync probe gives, after the "not yet" answers', async () => {
    let n = 0;
    const answers = [undefined, null, false, 'ready'];
    expect(await eventually('the answer', () => answers[n++], { intervalMs: 1 })).toBe('ready');
    expect(n).toBe(4);
  });

  it('waits for a boolean condition to hold and returns true', async () => {
    const start = Date.now();
    expect(await eventually('the time to pass', () => Date.now() - start >= 30, { intervalMs: 5 })).toBe(true);
  });

  it('counts 0 and the empty string as values', async () => {
    expect(await eventually('zero', () => 0)).toBe(0);
    expect(await eventually('empty', () => '')).toBe('');
  });

  it('awaits an async probe', async () => {
    let n = 0;
    const got = await eventually(
      'the third call',
      async () => {
        await sleep(1);
        return ++n === 3 ? { n } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(got).toEqual({ n: 3 });
  });

  it('fails at the deadline naming what it waited for and the last answer', async () => {
    const start = Date.now();
    await expect(eventually('the impossible', () => false, { timeoutMs: 50, intervalMs: 10 })).rejects.toThrow(
      'timed out after 50 ms waiting for the impossible (last answer: false)',
    );
    expect(Date.now() - start).toBeGreaterThanOrEqual(50);
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('describes the state at the deadline when `what` is a function', async () => {
    let polls = 0;
    await expect(
      eventually(
        () => `a record (after ${polls} polls)`,
        () => (polls++, undefined),
        { timeoutMs: 30, intervalMs: 10 },
      ),
    ).rejects.toThrow(new RegExp(`waiting for a record \\(after [1-9]\\d* polls\\)`));
  });

  it('retries a probe that throws until it answers', async () => {
    let n = 0;
    const got = await eventually(
      'a flaky probe',
      async () => {
        if (++n < 3) throw new Error(`not up yet (${n})`);
        return n;
      },
      { intervalMs: 1 },
    );
    expect(got).toBe(3);
  });

  it('reports the last error a probe threw once the deadline passes, as the message and the cause', async () => {
    let n = 0;
    const failure = await eventually(
      'the registry',
      () => {
        throw new Error(`connection refused (${++n})`);
      },
      { timeoutMs: 40, intervalMs: 5 },
    ).catch((e: unknown) => e as Error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure.message).toBe(`timed out after 40 ms waiting for the registry (last error: Error: connection refused (${n}))`);
    expect((failure.cause as Error).message).toBe(`connection refused (${n})`);
    expect(n).toBeGreaterThan(1);
  });

  it('probes once more at the deadline rather than sleeping past it', async () => {
    const start = Date.now();
    // The interval is longer than the timeout: the second probe comes at the deadline, not an interval later.
    await expect(eventually('never', () => undefined, { timeoutMs: 40, intervalMs: 5_000 })).rejects.toThrow(/timed out after 40 ms/);
    expect(Date.now() - start).toBeLessThan(1000);
  });
});
