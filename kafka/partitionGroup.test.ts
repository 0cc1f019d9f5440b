import { describe, expect, it } from 'vitest';
import { PartitionGroup } from './partitionGroup.ts';
import type { Message } from './rdkafkaPromises.ts';

const rec = (topic: string, partition: number, offset: number, timestamp: number | undefined): Message =>
  ({ topic, partition, offset, key: null, value: null, size: 0, timestamp }) as unknown as Message;
const names = (rs: Message[]) => rs.map((r) => `${r.topic}${r.offset}`);
/** Every input partition was assigned in ownership epoch 1 (the epoch the records and EOFs come in). */
const assigned = () => 1;
/** Every partition number has the inputs sig and sub. */
const both = () => ['sig', 'sub'];

/** A group whose inputs are known caught up at the offsets given (all nothing-consumed inputs at 0). */
function groupWith(records: Message[], idleMs = 100, ends: Array<[string, number, number]> = []): PartitionGroup {
  const g = new PartitionGroup(idleMs);
  g.add(records, 1);
  for (const [t, p, o] of ends) g.atEnd(t, p, o, 1);
  return g;
}

describe('PartitionGroup: order within what was consumed', () => {
  it('merges co-partitioned inputs by timestamp: a SUBSCRIBE stamped later waits behind older signaling', () => {
    const g = groupWith([rec('sub', 0, 0, 5000), rec('sig', 0, 0, 1000), rec('sig', 0, 1, 2000), rec('sig', 0, 2, 6000)], 100, [
      ['sig', 0, 3],
      ['sub', 0, 1],
    ]);
    expect(names(g.take(100, 0, both, assigned).records)).toEqual(['sig0', 'sig1', 'sub0', 'sig2']);
    expect(g.size).toBe(0);
  });

  it('never reorders a partition against its offsets, even when its timestamps go backwards', () => {
    const g = groupWith([rec('a', 0, 0, 3000), rec('a', 0, 1, 1000), rec('b', 0, 0, 2000)], 100, [
      ['a', 0, 2],
      ['b', 0, 1],
    ]);
    expect(names(g.take(100, 0, () => ['a', 'b'], assigned).records)).toEqual(['b0', 'a0', 'a1']);
  });

  it('keeps a record without a timestamp behind its predecessor, and ties in arrival order', () => {
    const g = groupWith([rec('a', 0, 0, 1000), rec('a', 0, 1, undefined), rec('b', 0, 0, 1000), rec('b', 0, 1, 500)], 100, [
      ['a', 0, 2],
      ['b', 0, 2],
    ]);
    expect(names(g.take(100, 0, () => ['a', 'b'], assigned).records)).toEqual(['a0', 'a1', 'b0', 'b1']);
  });

  it('takes a single input at once, whatever its end', () => {
    const g = groupWith([rec('a', 0, 0, 3), rec('a', 0, 1, 1)]);
    expect(names(g.take(100, 0, () => ['a'], assigned).records)).toEqual(['a0', 'a1']);
  });

  it('takes the partition numbers in turn when more is buffered than a batch takes', () => {
    const g = groupWith([rec('a', 0, 0, 1), rec('a', 0, 1, 2), rec('a', 1, 0, 1), rec('a', 1, 1, 2)]);
    const firsts = [0, 1, 2, 3].map(() => g.take(1, 0, () => ['a'], assigned).records[0]!.partition);
    expect(firsts).toEqual([0, 1, 0, 1]);
  });

  it('takes at most max records, the rest stay for the next batch', () => {
    const g = groupWith([rec('a', 0, 0, 1), rec('a', 0, 1, 2), rec('a', 0, 2, 3)]);
    expect(names(g.take(2, 0, () => ['a'], assigned).records)).toEqual(['a0', 'a1']);
    expect(g.size).toBe(1);
    expect(names(g.take(2, 0, () => ['a'], assigned).records)).toEqual(['a2']);
  });
});

describe('PartitionGroup: waiting for an input across batches (max.task.idle.ms)', () => {
  it('holds a later SUBSCRIBE while the signaling input of its partition has not reported its end', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sub', 0, 0, 5000)], 1);
    expect(g.take(100, 1000, both, assigned).records).toEqual([]);
    // The older signaling arrives in a later consume: it goes first.
    g.add([rec('sig', 0, 0, 1000), rec('sig', 0, 1, 6000)], 1);
    g.atEnd('sig', 0, 2, 1);
    // sig1 is newer than anything sub has shown: it waits for sub's end in turn.
    expect(names(g.take(100, 1010, both, assigned).records)).toEqual(['sig0', 'sub0']);
    g.atEnd('sub', 0, 1, 1);
    expect(names(g.take(100, 1020, both, assigned).records)).toEqual(['sig1']);
  });

  it('goes on as soon as the other input is known caught up (EOF at or past what was consumed)', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sig', 0, 0, 1000)], 1);
    g.atEnd('sig', 0, 1, 1);
    g.add([rec('sub', 0, 0, 5000)], 1);
    expect(names(g.take(100, 0, both, assigned).records)).toEqual(['sig0', 'sub0']);
    // An EOF older than a record consumed since says nothing about the end.
    g.add([rec('sig', 0, 1, 6000)], 1);
    g.add([rec('sub', 0, 1, 7000)], 1);
    g.atEnd('sub', 0, 2, 1);
    expect(names(g.take(100, 0, both, assigned).records)).toEqual(['sig1']);
    g.add([rec('sub', 0, 2, 8000)], 1);
    expect(g.take(100, 50, both, assigned).records).toEqual([]);
  });

  it('stops merging where an input runs dry before its end is known; the rest waits for it', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sig', 0, 0, 1000), rec('sub', 0, 0, 3000), rec('sub', 0, 1, 4000)], 1);
    g.atEnd('sub', 0, 2, 1);
    expect(names(g.take(100, 0, both, assigned).records)).toEqual(['sig0']);
    expect(g.size).toBe(2);
    g.add([rec('sig', 0, 1, 3500)], 1);
    g.atEnd('sig', 0, 2, 1);
    expect(names(g.take(100, 10, both, assigned).records)).toEqual(['sub0', 'sig1', 'sub1']);
  });

  it('waits at most maxIdleMs, then takes what it has (enforced) and counts it', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sub', 0, 0, 5000)], 1);
    expect(g.take(100, 1000, both, assigned)).toEqual({ records: [], enforced: 0 });
    expect(g.take(100, 1099, both, assigned).records).toEqual([]);
    const late = g.take(100, 1100, both, assigned);
    expect(names(late.records)).toEqual(['sub0']);
    expect(late.enforced).toBe(1);
  });

  it('with maxIdleMs 0 never waits', () => {
    const g0 = new PartitionGroup(0);
    g0.add([rec('sub', 0, 0, 5000)], 1);
    expect(names(g0.take(100, 0, both, assigned).records)).toEqual(['sub0']);
  });

  it('waits per partition number: one waiting does not hold another back', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sub', 0, 0, 5000), rec('sub', 1, 0, 5000)], 1);
    g.atEnd('sig', 1, 0, 1);
    expect(names(g.take(100, 0, both, assigned).records)).toEqual(['sub0']);
    expect(g.buffered()).toEqual([{ topic: 'sub', partition: 0, epoch: 1 }]);
  });

  it('drop forgets a partition (its records, its end) and names its first untaken record', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sig', 0, 4, 1), rec('sig', 0, 5, 2)], 3);
    g.atEnd('sig', 0, 6, 1);
    g.add([rec('sub', 0, 0, 5)], 3);
    expect(names(g.take(1, 0, both, assigned).records)).toEqual(['sig4']);
    expect(g.drop('sig', 0)?.offset).toBe(5);
    expect(g.size).toBe(1);
    // Its end is forgotten too: the SUBSCRIBE waits for the re-read signaling.
    expect(g.take(100, 0, both, assigned).records).toEqual([]);
  });

  it('an EOF or a record from before a partition was (re)assigned says nothing of its end', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sig', 0, 4, 1000)], 1);
    g.atEnd('sig', 0, 5, 1);
    g.add([rec('sub', 0, 0, 5000)], 1);
    expect(names(g.take(1, 0, both, assigned).records)).toEqual(['sig4']);
    // sig[0] is reassigned (or its producer recovered in place) in epoch 2: read again from its committed offset.
    const reassigned = (t: string) => (t === 'sig' ? 2 : 1);
    expect(g.take(100, 0, both, reassigned).records).toEqual([]);
    g.atEnd('sig', 0, 3, 2);
    expect(names(g.take(100, 10, both, reassigned).records)).toEqual(['sub0']);
  });

  it('a stale drop keeps the EOF of the assignment after it', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sig', 0, 4, 1000)], 1);
    g.atEnd('sig', 0, 7, 2);
    g.drop('sig', 0, 1);
    g.add([rec('sub', 0, 0, 5000)], 2);
    expect(names(g.take(100, 0, both, () => 2).records)).toEqual(['sub0']);
  });

  it('a wait ends with its records: after they are dropped, the next ones wait the whole time again', () => {
    const g = new PartitionGroup(100);
    g.add([rec('sub', 0, 0, 5000)], 1);
    expect(g.take(100, 1000, both, assigned).records).toEqual([]);
    g.drop('sub', 0);
    expect(g.take(100, 1050, both, assigned).records).toEqual([]);
    g.add([rec('sub', 0, 0, 5000)], 1);
    expect(g.take(100, 1150, both, assigned).records).toEqual([]);
    expect(names(g.take(100, 1250, both, assigned).records)).toEqual(['sub0']);
  });
});
