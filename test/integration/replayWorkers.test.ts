// `presence replay --workers 2` as an operator runs it on two captures of our
// own generator: two processes side by side, their summaries added up, every
// event of both files on the topic once; and a file that is no capture fails
// its worker with the reason while the other worker's events are published.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordSerde } from '../../schemas/serde.ts';
import { generateToPcap } from '../../tools/generator/generate.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { runPresence } from '../support/memberProcess.ts';
import { readTopic } from '../support/topicReader.ts';

const s = isolatedSettings('replay-workers', 4);
const serde = new RecordSerde(s.registry.url, s.topics.prefix);
const dir = mkdtempSync(path.join(tmpdir(), 'it-replay-workers-'));
const first = path.join(dir, 'first.pcap');
const second = path.join(dir, 'second.pcap');

const replay = (args: string[]) => runPresence(s, ['replay', ...args]);

beforeAll(async () => {
  await applyIsolated(s);
  await serde.loadIds();
  await generateToPcap({ subscribers: 200, durationSeconds: 120, seed: 11, out: first });
  await generateToPcap({ subscribers: 200, durationSeconds: 60, seed: 12, out: second });
}, 60_000);

afterAll(async () => {
  await cleanupIsolated(s);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('presence replay --workers', () => {
  it('replays two captures in two processes: one summary adding both, every event on the topic once', async () => {
    const r = await replay(['--workers', '2', '--no-directory', '--unknown', 'keep', first, second]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\[worker 1\] /m);
    expect(r.stderr).toMatch(/^\[worker 2\] /m);
    const published = Number(/^published (\d+) signaling events/m.exec(r.stderr)?.[1]);
    expect(published).toBeGreaterThan(100);
    const got = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 4,
      count: published,
      settleMs: 2000,
    });
    expect(got).toHaveLength(published);
    const events = await Promise.all(got.map((m) => serde.decode('signaling-events', m.value!)));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(published);
    const byCapture = new Map<string, number>();
    for (const e of events) byCapture.set(e.source.capture!, (byCapture.get(e.source.capture!) ?? 0) + 1);
    expect([...byCapture.keys()].sort()).toEqual(['first.pcap', 'second.pcap']);
  }, 120_000);

  it('fails the worker of a file that is no capture, with the reason, after the other worker published its file', async () => {
    const bad = path.join(dir, 'bad.pcap');
    writeFileSync(bad, 'not a capture file at all');
    const before = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 4,
      count: 1,
      settleMs: 1000,
    });
    const r = await replay(['--workers', '2', '--no-directory', '--unknown', 'keep', '--speed', 'max', second, bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 of 2 replay workers failed:\n {2}worker \d \(.*bad\.pcap\): pcap: malformed: not a pcap magic/);
    // The good file's events went out all the same (the first test published both files before).
    const after = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 4,
      count: before.length + 1,
      settleMs: 2000,
    });
    expect(after.length).toBeGreaterThan(before.length);
  }, 120_000);
});
