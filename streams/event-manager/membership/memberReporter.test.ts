import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MemberReport, PartitionRestore } from '../../../schemas/generated/records.ts';
import type { RecordSerde } from '../../../schemas/serde.ts';
import type { RecordProducer } from '../../../kafka/recordProducer.ts';
import { LoadMeter } from './loadMeter.ts';
import { MemberReporter } from './memberReporter.ts';

/** A reporter whose "producer" keeps the reports it was given (the serde passes the record through). */
function reporter(restoring: () => PartitionRestore[]) {
  const sent: MemberReport[] = [];
  const serde = { encode: (_t: string, r: MemberReport) => r } as unknown as RecordSerde;
  const producer = {
    send: (_topic: string, _key: string, value: unknown) => {
      sent.push(value as MemberReport);
      return Promise.resolve();
    },
  } as unknown as RecordProducer;
  const r = new MemberReporter({
    memberId: 'em-1',
    topic: 't',
    serde,
    producer,
    meter: new LoadMeter(),
    owned: () => new Map([[3, 0]]),
    restoring,
    intervalMs: 60_000,
    restoreIntervalMs: 1000,
  });
  return { r, sent };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MemberReporter and restores', () => {
  it('reports every second while a restore runs, with its progress, then once more when it is done, then only at the interval', async () => {
    vi.useFakeTimers();
    let progress: PartitionRestore[] = [{ partition: 3, phase: 'reading-changelog', restoredRecords: 10, toRead: 100, startedAt: 0 }];
    const { r, sent } = reporter(() => progress);
    await r.start();
    expect(sent.at(-1)!.restoring).toEqual(progress);
    progress = [{ ...progress[0]!, restoredRecords: 60 }];
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(2);
    expect(sent.at(-1)!.restoring[0]!.restoredRecords).toBe(60);
    progress = [];
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(3);
    expect(sent.at(-1)!.restoring).toEqual([]);
    // Nothing restoring and nothing reported restoring: back to the (here one-minute) interval.
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(3);
    await r.leave();
  });

  it('without restores, reports carry an empty list', async () => {
    const { r, sent } = reporter(() => []);
    await r.start();
    expect(sent[0]!.restoring).toEqual([]);
    await r.leave();
  });
});
