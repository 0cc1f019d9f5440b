// MAP decoding of the real captures, checked against tshark (the oracle) and
// against the operation counts documented in shared/captures/README.md.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { sctpUserMessages } from '../../../test/support/sctpUserMessages.ts';
import { oracleNote, tsharkFields } from '../../../test/support/tsharkFields.ts';
import { Ss7Dissector, type Ss7Message } from '../ss7Dissector.ts';
import type { MapParams } from './map.ts';
import { MAP_FIXTURE, fixtureLog, fixturePath, fixtureSubscriber, tsharkNote } from '../../../test/support/fixtures.ts';

const skip = !haveCaptures || !haveTshark;

function decodePath(file: string): Ss7Message[] {
  const d = new Ss7Dissector();
  const out: Ss7Message[] = [];
  for (const m of sctpUserMessages(file)) out.push(...d.decode(m.payload, m.ppid, m));
  return out;
}

const decodeFile = (rel: string): Ss7Message[] => decodePath(capture(rel));

function addresses(p: MapParams): string[] {
  const a = [p.msisdn, p.vlrNumber, p.mscNumber, p.sgsnNumber, p.hlrNumber, p.roamingNumber, p.networkNodeNumber, p.serviceCentre, p.gsmScfAddress];
  return [...new Set(a.filter((x) => x !== undefined).map((x) => x!.digits))].sort();
}

function opCounts(msgs: Ss7Message[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const m of msgs) {
    if (!m.map) continue;
    const k = `${m.map.kind}:${m.map.operation ?? m.map.error ?? '?'}`;
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}

const FILES = ['ss7/map-location-update-m3ua.pcap', 'ss7/map-lu-ati-m3ua.pcap', 'ss7/map-gprs-attach-m3ua.pcap', 'ss7/map-sms-m2pa.pcap'];

function componentsMatchTshark(file: string): void {
  const ours = decodePath(file).filter((m) => m.protocol === 'map');
  const rows = tsharkFields(file, 'gsm_map', [
    'gsm_old.invoke_element',
    'gsm_old.returnResultLast_element',
    'gsm_old.returnError_element',
    'gsm_old.invokeID',
    'gsm_old.localValue',
    'e212.imsi',
    'e164.msisdn',
    'tcap.otid',
    'tcap.dtid',
  ]);
  expect(ours.map((m) => m.frame)).toEqual(rows.map((r) => r.frame));
  ours.forEach((m, i) => {
    const [inv, rrl, rerr, ids, codes, imsis, e164, otid, dtid] = rows[i]!.fields;
    const kind = inv!.length ? 'invoke' : rrl!.length ? 'result' : rerr!.length ? 'error' : '?';
    expect(m.map!.kind, `frame ${m.frame}`).toBe(kind);
    expect(m.map!.invokeId).toBe(Number(ids![0]));
    const code = m.map!.kind === 'error' ? m.map!.errorCode : m.map!.opCode;
    expect(code === undefined ? [] : [String(code)]).toEqual(codes);
    expect(m.map!.params.imsi === undefined ? [] : [m.map!.params.imsi]).toEqual(imsis);
    expect(m.tcap!.otid ?? '').toBe(otid![0] ?? '');
    expect(m.tcap!.dtid ?? '').toBe(dtid![0] ?? '');
    // Every number we decode is one tshark shows; tshark shows more for
    // (mo-/mt-)forwardSM, whose SMS TPDU addresses we do not decode.
    const mine = addresses(m.map!.params);
    const theirs = [...new Set(e164)].sort();
    for (const d of mine) expect(theirs, `frame ${m.frame}`).toContain(d);
    // Nor do we decode sendRoutingInfo's gmsc-OrGsmSCF-Address (the one number
    // more tshark shows there; the generated fixture carries it).
    if (m.map!.opCode === 22 && m.map!.kind === 'invoke')
      expect(
        theirs.filter((d) => !mine.includes(d)),
        `frame ${m.frame}`,
      ).toHaveLength(1);
    else if (m.map!.opCode !== 44 && m.map!.opCode !== 46) expect(mine).toEqual(theirs);
  });
}

describe.skipIf(skip)(`MAP vs tshark${oracleNote}`, () => {
  for (const rel of FILES) {
    it(`${rel}: component kinds, invoke ids, op/error codes, IMSIs and E.164 numbers per frame`, () => {
      componentsMatchTshark(capture(rel));
    });
  }

  it('map-location-update-m3ua: README counts (updateLocation ×4, insertSubscriberData ×2) and IMSIs', () => {
    const msgs = decodeFile('ss7/map-location-update-m3ua.pcap');
    const c = opCounts(msgs);
    expect(c['invoke:updateLocation']! + c['result:updateLocation']!).toBe(4);
    expect(c['invoke:insertSubscriberData']).toBe(2);
    // The two insertSubscriberData results carry no opCode: named only by correlation.
    expect(c['result:?']).toBe(2);
    const imsis = new Set(msgs.map((m) => m.map?.params.imsi).filter(Boolean));
    expect([...imsis].sort()).toEqual(['001011356567851', '001011356567853']);
    expect(msgs[0]!.tcap!.appContext).toBe('networkLocUpContext-v3');
  });

  it('map-lu-ati-m3ua: README counts; the "deleteSubscriberData ×2" of the README are returnError code 8 (roamingNotAllowed)', () => {
    const msgs = decodeFile('ss7/map-lu-ati-m3ua.pcap');
    expect(opCounts(msgs)).toEqual({
      'invoke:updateLocation': 2,
      'invoke:anyTimeInterrogation': 1,
      'result:anyTimeInterrogation': 2, // the End, and its copy returned in a UDTS
      'invoke:sendIdentification': 2,
      'result:sendIdentification': 2,
      'error:roamingNotAllowed': 2,
    });
    const returned = msgs.filter((m) => m.sccp?.returnCause);
    expect(returned.map((m) => m.sccp!.type)).toEqual(['UDTS']);
    const imsis = new Set(msgs.map((m) => m.map?.params.imsi).filter(Boolean));
    expect([...imsis].sort()).toEqual(['405037027451342', '405037027451347']);
  });

  it('map-lu-ati-m3ua: ATI invoke and result contents match tshark', () => {
    const msgs = decodeFile('ss7/map-lu-ati-m3ua.pcap');
    const inv = msgs.find((m) => m.map?.kind === 'invoke' && m.map.opCode === 71)!;
    expect(inv.map!.params.msisdn).toEqual({ digits: '918793714126', nai: 1, np: 1 });
    expect(inv.map!.params.requestedInfo).toEqual(['locationInformation', 'subscriberState', 'currentLocation', 'requestedDomain']);
    const res = msgs.find((m) => m.frame === 10)!;
    const [state, age, cgi] = tsharkFields(capture('ss7/map-lu-ati-m3ua.pcap'), 'frame.number==10', [
      'gsm_map.ms.subscriberState',
      'gsm_map.ms.ageOfLocationInformation',
      'gsm_map.cellGlobalIdOrServiceAreaIdFixedLength',
    ])[0]!.fields;
    expect(state).toEqual(['0']); // assumedIdle
    expect(res.map!.params.subscriberState).toBe('assumedIdle');
    expect(res.map!.params.location!.ageOfLocationInformation).toBe(Number(age![0]));
    expect(res.map!.params.location!.vlrNumber!.digits).toBe('919028055000');
    // tshark prints the CGI as raw hex; decode it by hand (TS 24.008 §10.5.1.3):
    // 04 75 30 → MCC 405, MNC 037 (matches the IMSIs' 405-037 prefix); LAC 0x1b5d; CI 0x7a57.
    expect(cgi).toEqual(['0475301b5d7a57']);
    expect(res.map!.params.location!.cellGlobalId).toEqual({ mcc: '405', mnc: '037', lac: 0x1b5d, ci: 0x7a57 });
  });

  it('map-gprs-attach-m3ua: README counts and IMSI', () => {
    const c = opCounts(decodeFile('ss7/map-gprs-attach-m3ua.pcap'));
    expect(c['invoke:updateGprsLocation']! + c['result:updateGprsLocation']!).toBe(2);
    expect(c['invoke:sendAuthenticationInfo']! + c['result:sendAuthenticationInfo']!).toBe(4);
    expect(c['invoke:insertSubscriberData']! + c['result:insertSubscriberData']!).toBe(2);
  });

  it('map-sms-m2pa: SRI-for-SM ×2, forwardSM ×3 (MAP v2 name), reassembled from XUDT segments', () => {
    const msgs = decodeFile('ss7/map-sms-m2pa.pcap');
    expect(opCounts(msgs)).toEqual({ 'invoke:sendRoutingInfoForSM': 1, 'result:sendRoutingInfoForSM': 1, 'invoke:forwardSM': 3 });
    const sri = msgs.find((m) => m.map?.kind === 'result')!;
    expect(sri.map!.params.imsi).toBe('228012120109856');
    expect(sri.map!.params.networkNodeNumber!.digits).toBe('41794947000');
    const fsm = msgs.filter((m) => m.map?.operation === 'forwardSM');
    // tshark shows these on the second (last) segment of each pair: 15, 30, 44.
    expect(fsm.map((m) => m.frame)).toEqual([15, 30, 44]);
    for (const m of fsm) {
      expect(m.sccp!.type).toBe('XUDT');
      expect(m.map!.params.imsi).toBe('228012120109856'); // SM-RP-DA
      expect(m.map!.params.serviceCentre!.digits).toBe('41799797800'); // SM-RP-OA
    }
  });
});

describe.skipIf(!haveTshark)(`MAP vs tshark on the generated fixture${tsharkNote}`, () => {
  it(`${MAP_FIXTURE}: component kinds, invoke ids, op/error codes, IMSIs and E.164 numbers per frame`, () => componentsMatchTshark(fixturePath(MAP_FIXTURE)));
});

describe('MAP on the generated fixture, against the generator', () => {
  const log = fixtureLog(MAP_FIXTURE);
  const ours = decodePath(fixturePath(MAP_FIXTURE));

  it(`${MAP_FIXTURE}: every component is the operation, result or error the generator wrote`, () => {
    expect(ours.map((m) => m.protocol)).toEqual(log.map(() => 'map'));
    const label = (m: Ss7Message) => (m.map!.kind === 'error' ? `error.${m.map!.error}` : `${m.map!.operation}.${m.map!.kind}`);
    const want = log.map((p) => p.meta.message.replace(/^[^.]+\.error\./, 'error.'));
    expect(ours.map(label)).toEqual(want);
  });

  it(`${MAP_FIXTURE}: IMSIs and MSISDNs are the subscriber's the generator names`, () => {
    let imsis = 0;
    let msisdns = 0;
    ours.forEach((m, i) => {
      const who = log[i]!.meta.subscriber;
      const p = m.map!.params;
      if (who < 0) return; // a number that does not exist
      const id = fixtureSubscriber(who);
      if (p.imsi !== undefined) {
        expect(p.imsi, `record ${i}`).toBe(id.imsi);
        imsis++;
      }
      if (p.msisdn !== undefined) {
        expect(p.msisdn.digits, `record ${i}`).toBe(id.msisdn);
        msisdns++;
      }
    });
    expect(imsis).toBeGreaterThan(50);
    expect(msisdns).toBeGreaterThan(20);
  });

  it(`${MAP_FIXTURE}: anyTimeInterrogation results say assumedIdle or netDetNotReachable`, () => {
    const states = ours.filter((m) => m.map!.operation === 'anyTimeInterrogation' && m.map!.kind === 'result').map((m) => m.map!.params.subscriberState);
    expect(states.length).toBe(log.filter((p) => p.meta.message === 'anyTimeInterrogation.result').length);
    expect(new Set(states)).toEqual(new Set(['assumedIdle', 'netDetNotReachable']));
  });
});
