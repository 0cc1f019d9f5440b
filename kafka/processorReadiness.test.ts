import { describe, expect, it } from 'vitest';
import { processorReadiness, type ProcessorHealth } from './processorReadiness.ts';

const health = (h: Partial<ProcessorHealth>): ProcessorHealth => ({ running: true, joined: true, live: [], restoring: [], split: [], ...h });

describe("a transactional processor's readiness", () => {
  it('is not ready before the group has given it its first assignment, though its loop runs and it holds nothing yet', () => {
    // CI saw /readyz 200 from an event deriver that had not joined yet: it held no partition, which read as "an empty assignment".
    expect(processorReadiness(health({ joined: false }))).toMatchObject({ ok: false, reason: 'joining the group: no assignment received yet' });
  });

  it('is ready once joined, also with an empty assignment (more members than partitions: nothing to answer for)', () => {
    expect(processorReadiness(health({}))).toMatchObject({ ok: true, details: { partitions: [] } });
    expect(processorReadiness(health({ live: [0, 1] }))).toMatchObject({ ok: true, details: { partitions: [0, 1], restoring: [], split: [] } });
  });

  it('is not ready while its loop is stopped, a partition restores or is held only in part', () => {
    expect(processorReadiness(health({ running: false }))).toMatchObject({ ok: false, reason: 'the processing loop is not running' });
    expect(processorReadiness(health({ restoring: [3, 5] }))).toMatchObject({ ok: false, reason: 'restoring partitions 3,5' });
    expect(processorReadiness(health({ split: [2] }))).toMatchObject({
      ok: false,
      reason: 'partitions 2 held only in part (co-partitioned topics split across members)',
    });
  });
});
