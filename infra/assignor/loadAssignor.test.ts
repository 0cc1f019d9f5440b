// The broker-side assignor's Java unit tests (placement, report decoding,
// the assignor on a GroupSpec) run through Maven, and its hand-written Avro
// decoder is checked against a MemberReport encoded from the real .avsc.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { loadSettings, projectRoot } from '../../config/settings.ts';
import { assignorBuildDir, mavenAssignor } from './loadAssignorJar.ts';

const home = loadSettings().home;

function surefireTotals(dir: string): { tests: number; failed: number } {
  let tests = 0;
  let failed = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.xml'))) {
    const head = /<testsuite [^>]*>/.exec(readFileSync(path.join(dir, f), 'utf8'))?.[0] ?? '';
    const n = (k: string) => Number(new RegExp(`\\b${k}="(\\d+)"`).exec(head)?.[1] ?? 0);
    tests += n('tests');
    failed += n('failures') + n('errors');
  }
  return { tests, failed };
}

describe('load-aware assignor (Java, infra/assignor)', () => {
  it('passes its JUnit tests', { timeout: 180_000 }, async () => {
    await mavenAssignor(home, 'test');
    const t = surefireTotals(path.join(assignorBuildDir(home), 'surefire-reports'));
    expect(t.failed).toBe(0);
    expect(t.tests).toBeGreaterThanOrEqual(15);
  });

  it('decodes a MemberReport encoded from schemas/avro/MemberReport.avsc', () => {
    const type = avro.Type.forSchema(JSON.parse(readFileSync(path.join(projectRoot, 'schemas/avro/MemberReport.avsc'), 'utf8')));
    const body = type.toBuffer({
      memberId: 'em-7',
      host: 'h',
      pid: 42,
      sipContact: 'sip:127.0.0.1:5070',
      httpUrl: null,
      partitions: [1, 5],
      partitionLoad: [
        { partition: 1, eventsPerSecond: 12.5, subscribers: 300 },
        { partition: 5, eventsPerSecond: 0.25, subscribers: 7 },
      ],
      utilization: 0.3,
      capacityEventsPerSecond: 800,
      startedAt: 1_700_000_000_000,
      reportedAt: 1_700_000_005_000,
      leaving: false,
      // Written after the fields the assignor reads: its decoder stops before it.
      restoring: [{ partition: 5, phase: 'reading-changelog', restoredRecords: 10, toRead: 100, startedAt: 1_700_000_004_000 }],
    });
    const value = Buffer.concat([Buffer.from([0, 0, 0, 0, 9]), body]);
    const out = execFileSync('java', ['-cp', path.join(assignorBuildDir(home), 'classes'), 'presence.assignor.PlacementCli'], {
      input: `decode ${value.toString('hex')}\n`,
    }).toString();
    expect(out.trim()).toBe('report em-7 partitions=[1, 5] loads=1:12.5:300,5:0.25:7 utilization=0.3 capacity=800.0 reportedAt=1700000005000 leaving=false');
  });
});
