// Issue 19, Pi: `presence run event-manager`, configured with a registrar and
// an IMS identities file (PRESENCE_REG_EVENT_*), holds the reg dialog of each
// listed subscriber whose partition it owns — and the dialog moves with the
// partition. Two members as child processes against Kamailio: the subscriber's
// dialog is held by exactly one (its stats line: reg dialogs 1/1, the other's
// 0/1); that owner stopped, the other takes the partition and opens the
// dialog; a SIPp handset registering then reaches signaling-events as a
// reg-event registration through the new owner's dialog. Skips, saying why,
// without sipp or Kamailio.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalingEvent } from '../../schemas/generated/records.ts';
import { RecordSerde } from '../../schemas/serde.ts';
import { SubscriberDirectory } from '../../subscriber/directory/subscriberDirectory.ts';
import { kamailioRegistrarMissing, startKamailioRegistrar, type KamailioPeer } from '../../tools/kamailio/kamailio.ts';
import { registerHandsetUac } from '../../tools/sipp/scenarios.ts';
import { sippAvailable, startSipp } from '../../tools/sipp/sipp.ts';
import { testDatabaseUrl } from '../support/database.ts';
import { applyIsolated, cleanupIsolated, isolatedSettings, topicName } from '../support/isolatedStack.ts';
import { startMemberProcess, type MemberProcess } from '../support/memberProcess.ts';
import { freeUdpPort } from '../support/ports.ts';
import { readTopic } from '../support/topicReader.ts';
import { eventually } from '../support/wait.ts';

const HOST = '127.0.0.1';
const MISSING = sippAvailable() ? kamailioRegistrarMissing() : 'sipp not found on PATH (Debian: apt-get install sip-tester)';
if (MISSING) console.warn(`event manager's reg-event agent skipped: ${MISSING}`);

const run = `${Date.now().toString(36)}${process.pid}`;
// Unique per run: the CLI keys identities through the directory's default schema of the test database.
const AOR = `sip:memberreg-${run}@ims.test`;
const KEY = `aor:${AOR}`;
const s = isolatedSettings('memberreg', 4);
const logs = mkdtempSync(join(tmpdir(), 'memberreg-'));
const identitiesFile = join(logs, 'ims-identities.txt');

/** The reg dialogs a member last reported in its stats line (up/listed), or undefined before its first. */
function regDialogs(m: MemberProcess, since = 0): string | undefined {
  const line = m.lines.filter((l) => l.at >= since && /reg dialogs \d+\/\d+/.test(l.text)).at(-1);
  return line ? /reg dialogs (\d+\/\d+)/.exec(line.text)![1] : undefined;
}

describe.skipIf(MISSING !== undefined)('run event-manager with PRESENCE_REG_EVENT_*: the owner of a subscriber owns its reg dialog', () => {
  let kamailio: KamailioPeer | undefined;
  const members: MemberProcess[] = [];

  beforeAll(async () => {
    kamailio = await startKamailioRegistrar({ host: HOST, port: await freeUdpPort(HOST), logFile: join(logs, 'kamailio.log') });
    writeFileSync(identitiesFile, `${AOR}\n`);
    const directory = new SubscriberDirectory(testDatabaseUrl);
    await directory.migrate();
    await directory.provision([{ msisdn: null, imsi: null, aor: AOR }]);
    await directory.close();
    await applyIsolated(s);
  }, 120_000);

  afterAll(async () => {
    for (const m of members) await m.stop('SIGTERM').catch(() => m.stop('SIGKILL').catch(() => undefined));
    await kamailio?.stop();
    const db = new pg.Client(testDatabaseUrl);
    await db.connect();
    await db.query('delete from presence.subscribers where aor = $1', [AOR]).finally(() => db.end());
    rmSync(logs, { recursive: true, force: true });
    await cleanupIsolated(s);
  }, 120_000);

  const start = (id: string) =>
    startMemberProcess(s, id, ['event-manager', '--member-id', id, '--stats-interval', '1'], /running against/, {
      PRESENCE_DATABASE_URL: testDatabaseUrl,
      PRESENCE_REG_EVENT_REGISTRAR: `${HOST}:${kamailio!.port}`,
      PRESENCE_REG_EVENT_IDENTITIES: identitiesFile,
      PRESENCE_REG_EVENT_WATCHER: 'sip:presence@ims.test',
    });

  it('one member holds the dialog, and when it stops the other opens it; a registration then arrives through it', async () => {
    const a = await start(`em-a-${run}`);
    members.push(a);
    await a.waitFor(/reg-event agent on udp 127\.0\.0\.1:\d+: 1 IMS subscribers listed/, 30_000);
    await eventually('em-a holding the dialog alone', () => regDialogs(a) === '1/1', { timeoutMs: 60_000, intervalMs: 200 });

    const joinedAt = Date.now();
    const b = await start(`em-b-${run}`);
    members.push(b);
    // After the rebalance exactly one of them holds it, whichever owns the subscriber's partition now.
    const settledAt = await eventually(
      'the two members agreeing who holds the dialog',
      async () => {
        const partitions = (m: MemberProcess) => m.lines.filter((l) => l.at >= joinedAt && /partitions 2,/.test(l.text)).length > 2;
        const views = [regDialogs(a, joinedAt), regDialogs(b, joinedAt)];
        return partitions(a) && partitions(b) && views.sort().join(' ') === '0/1 1/1' ? Date.now() : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const [owner, other] = regDialogs(a, settledAt - 1500) === '1/1' ? [a, b] : [b, a];

    // The owner leaves: its partitions, and the subscriber's reg dialog, go to the other.
    await owner.stop('SIGTERM');
    expect(owner.lines.some((l) => /stopping \(SIGTERM\)/.test(l.text))).toBe(true);
    const movedAt = Date.now();
    await eventually('the other member opening the dialog', () => regDialogs(other, movedAt) === '1/1', { timeoutMs: 60_000, intervalMs: 200 });

    const handset = startSipp({
      scenario: registerHandsetUac({ aor: AOR, registrar: 'sip:ims.test', expires: 600, pauseMs: 1000 }),
      args: [`${HOST}:${kamailio!.port}`, '-i', HOST, '-p', String(await freeUdpPort(HOST)), '-m', '1'],
      deadlineMs: 30_000,
    });
    const done = await handset.done;
    expect(done.code, done.errors).toBe(0);
    const serde = new RecordSerde(s.registry.url, s.topics.prefix);
    const records = await readTopic({
      brokers: s.kafka.brokers,
      topic: topicName(s.topics.prefix, 'signaling-events'),
      partitions: 4,
      count: 3,
      timeoutMs: 30_000,
    });
    const events = (await Promise.all(records.map((r) => serde.decode('signaling-events', r.value!)))) as SignalingEvent[];
    expect(events.map((e) => [e.subscriber, e.source.tap, e.sip?.contacts.length])).toEqual([
      [KEY, 'reg-event', 1],
      [KEY, 'reg-event', 1],
      [KEY, 'reg-event', 0],
    ]);
  }, 240_000);
});
