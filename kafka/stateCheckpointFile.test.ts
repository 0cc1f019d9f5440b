import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkAgainstLog,
  checkpointPath,
  CheckpointRejected,
  parseCheckpoint,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointHeader,
} from './stateCheckpointFile.ts';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'checkpoint-test-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const header = (over: Partial<CheckpointHeader> = {}): CheckpointHeader => ({
  topic: 'p.changelog',
  partition: 3,
  offset: 41,
  clusterId: 'cluster-a',
  topicId: 'topic-1',
  writtenAt: Date.now(),
  ...over,
});
const expectation = { topic: 'p.changelog', partition: 3, clusterId: 'cluster-a', topicId: 'topic-1', maxAgeMs: 60_000 };

async function rejection(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CheckpointRejected);
  return (err as CheckpointRejected).reason;
}

describe('state checkpoint file', () => {
  it('round-trips keys, value bytes and the offset (empty values and non-ASCII keys included), across several write chunks, one entry larger than a chunk', async () => {
    const file = checkpointPath(dir, 'p.changelog', 3);
    const entries: Array<[string, Buffer]> = [
      ['sip:alice@example.com', Buffer.from([1, 2, 3])],
      ['tel:+33123', Buffer.alloc(0)],
      ['ünïcödé', Buffer.from('x')],
    ];
    // Enough bytes to span several 1 MiB chunks.
    for (let i = 0; i < 3000; i++) entries.push([`k${i}`, Buffer.alloc(1000, i % 251)]);
    // And one entry larger than a chunk: written on its own.
    entries.push(['big', Buffer.alloc(3 << 20, 7)]);
    const w = await writeCheckpoint(file, header(), entries);
    expect(w.entries).toBe(entries.length);
    const cp = await readCheckpoint(file, expectation);
    expect(cp.offset).toBe(41);
    expect(cp.topic).toBe('p.changelog');
    expect(cp.entries.length).toBe(entries.length);
    // Compared as strings: a deep equality of 3,000 Buffers takes seconds.
    const flat = (es: Array<[string, Buffer]>) => es.map(([k, v]) => `${k}=${v.toString('hex')}`).join('\n');
    expect(flat(cp.entries)).toBe(flat(entries));
    expect((await fs.readdir(path.dirname(file))).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('rejects a flipped byte, a truncated file, another format version, topic (name or id: recreated), partition or cluster, and an old checkpoint, each with its reason', async () => {
    const file = checkpointPath(dir, 'p.changelog', 3);
    await writeCheckpoint(file, header(), [['a', Buffer.from('1')]]);
    const good = await fs.readFile(file);

    const flipped = Buffer.from(good);
    flipped[flipped.length - 40]! ^= 0xff;
    expect(() => parseCheckpoint(flipped)).toThrow(/checksum mismatch/);
    expect(() => parseCheckpoint(good.subarray(0, good.length - 5))).toThrow(CheckpointRejected);
    expect(() => parseCheckpoint(Buffer.from('not a checkpoint at all, just some text of enough length'))).toThrow(/not a checkpoint file/);

    await fs.writeFile(file, flipped);
    expect(await rejection(readCheckpoint(file, expectation))).toBe('corrupt');
    await fs.writeFile(file, good);
    expect(await rejection(readCheckpoint(file, { ...expectation, partition: 4 }))).toBe('other-topic');
    expect(await rejection(readCheckpoint(file, { ...expectation, topic: 'q.changelog' }))).toBe('other-topic');
    expect(await rejection(readCheckpoint(file, { ...expectation, topicId: 'topic-2' }))).toBe('other-topic');
    expect(await rejection(readCheckpoint(file, { ...expectation, clusterId: 'cluster-b' }))).toBe('other-cluster');
    expect(await rejection(readCheckpoint(file, { ...expectation, now: Date.now() + 120_000 }))).toBe('too-old');
    expect(await rejection(readCheckpoint(path.join(dir, 'absent.checkpoint'), expectation))).toBe('missing');

    // Another format version, with a valid checksum: refused by version, not as corrupt.
    const { createHash } = await import('node:crypto');
    const body = Buffer.from(good.subarray(0, good.length - 32));
    body.writeUInt32BE(99, 8);
    const v99 = Buffer.concat([body, createHash('sha256').update(body).digest()]);
    expect(() => parseCheckpoint(v99)).toThrow(/format version 99/);
    await fs.writeFile(file, v99);
    expect(await rejection(readCheckpoint(file, expectation))).toBe('version');
  });

  it('is replaced atomically: a failed write leaves the previous checkpoint and no temporary file', async () => {
    const file = checkpointPath(dir, 'atomic', 0);
    await writeCheckpoint(file, header({ topic: 'atomic', partition: 0, offset: 7 }), [['a', Buffer.from('old')]]);
    function* failing(): Generator<[string, Buffer]> {
      yield ['a', Buffer.from('new')];
      yield ['b', Buffer.alloc(2 << 20)];
      throw new Error('store went away mid-snapshot');
    }
    await expect(writeCheckpoint(file, header({ topic: 'atomic', partition: 0, offset: 9 }), failing())).rejects.toThrow(/mid-snapshot/);
    const cp = await readCheckpoint(file, { ...expectation, topic: 'atomic', partition: 0 });
    expect(cp.offset).toBe(7);
    expect(cp.entries.map(([k, v]) => [k, v.toString()])).toEqual([['a', 'old']]);
    expect((await fs.readdir(path.dirname(file))).sort()).toEqual(['0.checkpoint']);
  });

  it('is usable only while the changelog still holds the records after its offset', () => {
    expect(checkAgainstLog(41, { low: 0, high: 42 })).toBeUndefined();
    expect(checkAgainstLog(41, { low: 42, high: 100 })).toBeUndefined();
    expect(checkAgainstLog(41, { low: 43, high: 100 })).toBe('below-log-start');
    expect(checkAgainstLog(41, { low: 0, high: 41 })).toBe('beyond-log-end');
  });
});
