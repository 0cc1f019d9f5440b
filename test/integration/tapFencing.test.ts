// A restarted tap fences the one that crashed inside a transaction (issue 12,
// defect 8: stable transactional ids). The crashed tap's open transaction holds
// every read_committed reader of signaling-events (event managers, deriver) at
// its first record until the transaction times out; a successor with the same
// transactional id aborts it when it starts. With ids made of host and pid, a
// restarted tap had a new id and fenced nobody: readers waited out the timeout
// (60 s for the crashed producer here).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOverHep } from '../support/sipOverHep.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { readTopic } from '../support/topicReader.ts';
import { sendDatagrams } from '../support/udpSend.ts';
import { within } from '../support/wait.ts';

const s = isolatedSettings('tap-fencing', 1);
const TAP_ID = 'hep-fencing-1';
let tap: MemberProcess | undefined;

/** Runs the crashed tap's stand-in until its transaction is open; resolves with a kill. */
async function tapCrashedInTransaction(topic: string): Promise<() => void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, '../support/openTapTransaction.ts'), s.kafka.brokers, s.topics.prefix, TAP_ID, topic],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await within(
    'the first tap opening its transaction',
    new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
      child.once('exit', (code) => reject(new Error(`the first tap exited (${code}) before its transaction was open`)));
    }),
    30_000,
  );
  return () => child.kill('SIGKILL');
}

beforeAll(async () => {
  await applyIsolated(s);
}, 60_000);

afterAll(async () => {
  await tap?.stop('SIGTERM').catch(() => tap?.stop('SIGKILL'));
  await cleanupIsolated(s);
}, 60_000);

describe('tap restarted under its --member-id', () => {
  it('aborts the transaction its crashed predecessor left open: its own events are readable at once, not after the timeout', async () => {
    const topic = topicName(s.topics.prefix, 'signaling-events');
    const kill = await tapCrashedInTransaction(topic);
    kill();
    tap = await startMemberProcess(
      s,
      'hep-fencing',
      ['hep', '--port', '0', '--member-id', TAP_ID, '--unknown', 'keep', '--no-directory', '--stats-interval', '60'],
      /HEP collector listening on udp\+tcp 127\.0\.0\.1:\d+/,
      {},
      'tap',
    );
    const text = tap.lines.map((l) => l.text).join('\n');
    expect(text).toContain(`tap id ${TAP_ID}`);
    const port = Number(/listening on udp\+tcp 127\.0\.0\.1:(\d+)/.exec(text)![1]);
    const sentAt = Date.now();
    await sendDatagrams(port, [registerOverHep(1, { msisdnPrefix: '+35191234570', tag: 'f' })]);
    // Fails with "1 of 1" arrived 0 when the open transaction still holds the partition's stable offset.
    const records = await readTopic({ brokers: s.kafka.brokers, topic, partitions: 1, count: 1, timeoutMs: 15_000, settleMs: 1000 });
    const seenAfterMs = Date.now() - sentAt;
    console.log(`the restarted tap's event readable ${seenAfterMs} ms after it was sent`);
    // The crashed tap's record was aborted: only the restarted tap's event is committed.
    expect(records.map((r) => r.value?.toString())).not.toContain('left open by a crashed tap');
    expect(records).toHaveLength(1);
  });
});
