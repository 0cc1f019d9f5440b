// A transaction abort that times out while the broker restarts must be retried:
// until one succeeds, librdkafka refuses every new transaction (ERR__STATE), and
// the member would fail each batch after it (found by test/chaos/brokerRestart).
import { describe, expect, it } from 'vitest';
import { abortRetrying } from './exactlyOnceProducer.ts';

const timedOut = () => Object.assign(new Error('Transactional operation timed out'), { isRetriable: true });

function failing(...errors: Error[]) {
  let calls = 0;
  return {
    abort: async () => {
      calls++;
      const e = errors.shift();
      if (e) throw e;
    },
    calls: () => calls,
  };
}

describe('abortRetrying', () => {
  it('retries retriable failures with a growing wait until the abort succeeds', async () => {
    const a = failing(timedOut(), timedOut(), timedOut());
    const waits: number[] = [];
    const log: string[] = [];
    await abortRetrying(
      a.abort,
      () => false,
      (l) => log.push(l),
      async (ms) => waits.push(ms),
    );
    expect(a.calls()).toBe(4);
    expect(waits).toEqual([250, 500, 1000]);
    expect(log[0]).toMatch(/timed out; retrying in 250 ms \(attempt 2\)/);
  });

  it('throws at once what is not retriable, or fatal', async () => {
    for (const e of [new Error('Erroneous state'), Object.assign(new Error('fenced'), { isRetriable: true, isFatal: true })]) {
      const a = failing(e);
      await expect(
        abortRetrying(
          a.abort,
          () => false,
          () => {},
          async () => {},
        ),
      ).rejects.toBe(e);
      expect(a.calls()).toBe(1);
    }
  });

  it('stops retrying when told to give up (stopping, or past the outage limit), with the last error', async () => {
    const a = failing(timedOut(), timedOut(), timedOut());
    let tries = 0;
    await expect(
      abortRetrying(
        a.abort,
        () => ++tries > 1,
        () => {},
        async () => {},
      ),
    ).rejects.toThrow(/timed out/);
    expect(a.calls()).toBe(2);
  });

  it('caps the wait at 5 s', async () => {
    const a = failing(...Array.from({ length: 8 }, timedOut));
    const waits: number[] = [];
    await abortRetrying(
      a.abort,
      () => false,
      () => {},
      async (ms) => waits.push(ms),
    );
    expect(waits.at(-1)).toBe(5000);
  });
});
