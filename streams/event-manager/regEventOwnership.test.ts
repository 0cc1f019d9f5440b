import { afterEach, describe, expect, it } from 'vitest';
import { partitionOf } from '../../kafka/partitioner.ts';
import type { RegSubscriber } from '../../taps/reg-event/regEventAgent.ts';
import { RegEventOwnership } from './regEventOwnership.ts';

const SUBSCRIBERS: RegSubscriber[] = Array.from({ length: 20 }, (_, i) => ({ key: `aor:sip:u${i}@ims.test`, aor: `sip:u${i}@ims.test` }));
const PARTITIONS = 4;

describe('RegEventOwnership', () => {
  let ownership: RegEventOwnership | undefined;
  afterEach(() => ownership?.stop());

  it("keeps the agent's dialogs to the owned partitions' subscribers and follows a rebalance", async () => {
    const calls: string[][] = [];
    let owned = [{ partition: 0 }, { partition: 2 }];
    ownership = new RegEventOwnership({
      agent: { setSubscribers: async (l) => void calls.push(l.map((s) => s.key)) },
      subscribers: SUBSCRIBERS,
      partitions: PARTITIONS,
      owned: () => owned,
      intervalMs: 60_000,
    });
    await ownership.sync();
    const expected = (parts: number[]) => SUBSCRIBERS.filter((s) => parts.includes(partitionOf(s.key, PARTITIONS))).map((s) => s.key);
    expect(calls).toHaveLength(1);
    expect([...calls[0]!].sort()).toEqual(expected([0, 2]).sort());
    expect(calls[0]!.length).toBeGreaterThan(0);
    await ownership.sync();
    expect(calls).toHaveLength(1); // unchanged ownership: nothing to do
    owned = [{ partition: 1 }];
    await ownership.sync();
    expect([...calls[1]!].sort()).toEqual(expected([1]).sort());
    owned = [];
    await ownership.sync();
    expect(calls[2]).toEqual([]);
  });
});
