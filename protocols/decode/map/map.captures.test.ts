// MAP decoding of the real captures, checked against tshark (the oracle) and
// against the operation counts documented in shared/captures/README.md.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { sctpUserMessages } from '../../../test/support/sctpUserMessages.ts';
import { oracleNote, tsharkFields } from '../../../test/support/tsharkFields.ts';
import { Ss7Dissector, type Ss7Message } from '../ss7Dissector.ts';
import type { MapParams } from './map.ts';

const skip = !haveCaptures || !haveTshark;

function decodeFile(rel: string): Ss7Message[] {
  const d = new Ss7Dissector();
  const out: Ss7Message[] = [];
  for (const m of sctpUserMessages(capture(rel))) out.push(...d.decode(m.payload, m.ppid, m));
  return out;
}

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

describe.skipIf(skip)(`MAP vs tshark${oracleNote}`, () => {
  for (const rel of FILES) {
    it(`${rel}: component kinds, invoke ids, op/error codes, IMSIs and E.164 numbers per frame`, () => {
      const ours = decodeFile(rel).filter((m) => m.protocol === 'map');
      const rows = tsharkFields(capture(rel), 'gsm_map', [
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
        // Every number we decode is one tshark shows; tshark shows more only
        // for (mo-/mt-)forwardSM, whose SMS TPDU addresses we do not decode.
        const mine = addresses(m.map!.params);
        const theirs = [...new Set(e164)].sort();
        for (const d of mine) expect(theirs, `frame ${m.frame}`).toContain(d);
        if (m.map!.opCode !== 44 && m.map!.opCode !== 46) expect(mine).toEqual(theirs);
      });
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
