import { describe, expect, it } from 'vitest';
import { LoadMeter } from './loadMeter.ts';

describe('LoadMeter', () => {
  it('reports events per second per owned partition and busy share of wall time, then resets', async () => {
    let now = 0;
    const meter = new LoadMeter(() => now);
    meter.count(0, 30);
    meter.count(2, 10);
    meter.count(5, 7); // not owned any more: dropped
    await meter.timed(async () => {
      now += 500;
    });
    now += 1500; // 2 s interval, 0.5 s busy
    const s = meter.sample(
      new Map([
        [2, 4],
        [0, 9],
        [1, 0],
      ]),
    );
    expect(s.utilization).toBeCloseTo(0.25);
    expect(s.partitionLoad).toEqual([
      { partition: 0, eventsPerSecond: 15, subscribers: 9 },
      { partition: 1, eventsPerSecond: 0, subscribers: 0 },
      { partition: 2, eventsPerSecond: 5, subscribers: 4 },
    ]);
    now += 1000;
    expect(meter.sample(new Map([[0, 9]]))).toEqual({ utilization: 0, partitionLoad: [{ partition: 0, eventsPerSecond: 0, subscribers: 9 }] });
  });

  it('counts a failed batch as busy and caps utilization at 1 when a batch spans a sample', async () => {
    let now = 0;
    const meter = new LoadMeter(() => now);
    await expect(
      meter.timed(async () => {
        now = 1000;
        expect(meter.sample(new Map()).utilization).toBe(0); // the batch is still running
        now = 3000;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    now = 3500; // 3000 ms busy charged to a 2500 ms interval
    expect(meter.sample(new Map()).utilization).toBe(1);
  });
});
