// The committed test captures are exactly what the generator writes today: a
// generator change that alters them fails here until they are regenerated on
// purpose (`npm run fixtures`) and the diff is committed with the change.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../test/support/captures.ts';
import { FIXTURES, fixturePackets, writeFixture } from './fixtures.ts';
import { MAP_OPERATIONS } from './map.ts';
import { ISUP_TYPES } from './isup.ts';

const committed = (file: string) => path.join(repoRoot, 'test/fixtures', file);
const dir = mkdtempSync(path.join(tmpdir(), 'fixtures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('test/fixtures', () => {
  for (const f of FIXTURES) {
    it(`${f.file} is byte-identical to what the generator writes now (else: npm run fixtures)`, () => {
      const fresh = path.join(dir, f.file);
      writeFixture(f, fresh);
      expect(readFileSync(fresh).equals(readFileSync(committed(f.file)))).toBe(true);
    });

    it(`${f.file} stays small`, () => {
      expect(statSync(committed(f.file)).size).toBeLessThan(48 * 1024);
    });
  }

  it('cover every MAP operation and error, ISUP message and SIP method the generator writes', () => {
    const messages = (file: string) => new Set(fixturePackets(FIXTURES.find((f) => f.file === file)!).map((p) => p.meta.message));
    const map = messages('map-m3ua.pcap');
    for (const op of Object.keys(MAP_OPERATIONS)) {
      expect(map).toContain(`${op}.invoke`);
      expect(map).toContain(`${op}.result`);
    }
    for (const e of [
      'sendRoutingInfo.error.unknownSubscriber',
      'sendRoutingInfo.error.absentSubscriber',
      'sendRoutingInfoForSM.error.unknownSubscriber',
      'sendRoutingInfoForSM.error.absentSubscriberSM',
    ])
      expect(map).toContain(e);
    expect([...messages('isup-m3ua.pcap')].sort()).toEqual(Object.keys(ISUP_TYPES).sort());
    const sip = messages('sip-udp.pcap');
    for (const m of [
      'REGISTER',
      '200 REGISTER',
      'INVITE',
      '180 INVITE',
      '200 INVITE',
      '486 INVITE',
      '480 INVITE',
      'ACK',
      'BYE',
      '200 BYE',
      'SUBSCRIBE',
      '200 SUBSCRIBE',
      'NOTIFY',
      '200 NOTIFY',
      'PUBLISH',
      '200 PUBLISH',
      'MESSAGE',
      '200 MESSAGE',
    ]) {
      expect(sip).toContain(m);
    }
  });
});
