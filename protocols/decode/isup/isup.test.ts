// ISUP: the real call in isup-call-m3ua-draft6.pcap against tshark, plus
// hand-built messages (Q.763 layouts) for CPG, SAM and cause octet 1a.
import { describe, expect, it } from 'vitest';
import { capture, haveCaptures, haveTshark } from '../../../test/support/captures.ts';
import { sctpUserMessages } from '../../../test/support/sctpUserMessages.ts';
import { oracleNote, tsharkFields } from '../../../test/support/tsharkFields.ts';
import { hex } from '../../../test/support/hex.ts';
import { Ss7Dissector } from '../ss7Dissector.ts';
import { DecodeError } from '../layer.ts';
import { decodeIsup } from './isup.ts';
import { ISUP_MESSAGE_TYPES } from './messageTypes.ts';
import { ISUP_FIXTURE, MAP_FIXTURE, fixtureLog, fixtureNetwork, fixturePath, fixtureSubscriber, tsharkNote } from '../../../test/support/fixtures.ts';

const FILE = 'ss7/isup-call-m3ua-draft6.pcap';

describe.skipIf(!haveCaptures || !haveTshark)(`ISUP call vs tshark (M3UA draft 6)${oracleNote}`, () => {
  it('IAM → CFN → ACM → ANM → REL → RLC on CIC 213 with numbers, causes and routing label', () => {
    const d = new Ss7Dissector();
    const ours = sctpUserMessages(capture(FILE)).flatMap((m) => d.decode(m.payload, m.ppid, m));
    const rows = tsharkFields(
      capture(FILE),
      'isup',
      ['isup.cic', 'isup.message_type', 'isup.called', 'isup.calling', 'isup.cause_indicator', 'mtp3.opc', 'mtp3.dpc', 'mtp3.sls'],
      ['-o', 'm3ua.version:draft-6'],
    );
    expect(ours.map((m) => m.isup!.name)).toEqual(['IAM', 'CFN', 'ACM', 'ANM', 'REL', 'RLC']);
    expect(ours.map((m) => m.frame)).toEqual(rows.map((r) => r.frame));
    ours.forEach((m, i) => {
      const [cic, type, called, calling, cause, opc, dpc, sls] = rows[i]!.fields;
      expect(m.isup!.cic).toBe(Number(cic![0]));
      expect(m.isup!.type).toBe(Number(type![0]));
      expect(m.isup!.calledNumber ? [m.isup!.calledNumber.digits] : []).toEqual(called);
      expect(m.isup!.callingNumber ? [m.isup!.callingNumber.digits] : []).toEqual(calling);
      expect(m.isup!.cause ? [String(m.isup!.cause.value)] : []).toEqual(cause);
      expect([m.opc, m.dpc, m.sls]).toEqual([Number(opc![0]), Number(dpc![0]), Number(sls![0])]);
      expect(m.si).toBe(5);
    });
    const iam = ours[0]!.isup!;
    expect(iam.calledNumber).toMatchObject({ digits: '4891F', nai: 1, np: 1 });
    expect(iam.callingNumber).toMatchObject({ digits: '3933399708', nai: 3, np: 1, presentation: 1, screening: 3 });
    expect(ours[4]!.isup!.cause).toEqual({ value: 16, name: 'normalCallClearing', location: 'user' });
    // tshark: called party's status indicator 1 = subscriber free.
    expect(ours[2]!.isup!.backwardCallIndicators!.calledPartyStatus).toBe('subscriberFree');
  });
});

describe('ISUP hand-built', () => {
  it('CPG with event alerting, presentation-restricted bit ignored', () => {
    // CIC 0x123, CPG (0x2c), event 0x81, optional pointer 0 (none).
    const m = decodeIsup(hex('2301 2c 81 00'));
    expect(m).toMatchObject({ cic: 0x123, name: 'CPG', event: 'alerting' });
  });
  it('REL with cause octet 1a (extension bit 0) and a diagnostic', () => {
    // REL, pointer to cause (2), optional pointer 0; cause: 0x02 (ext 0, loc 2), 0x80 (octet 1a), 0x91 (cause 17), diag.
    const m = decodeIsup(hex('0100 0c 02 00 04 02 80 91 00'));
    expect(m.cause).toEqual({ value: 17, name: 'userBusy', location: 'publicNetworkLocalUser' });
  });
  it('SAM subsequent digits with odd count', () => {
    // SAM: ptr 2 → len 3, odd indicator, digits 1 2 3 (0x21 0x03).
    const m = decodeIsup(hex('0500 02 02 00 03 80 21 03'));
    expect(m.subsequentDigits).toBe('123');
  });
  it('IAM with even called number and no optional part', () => {
    const m = decodeIsup(hex('0100 01 00 6000 0a 00 02 00 04 04 10 1234'));
    expect(m.calledNumber).toMatchObject({ digits: '2143', nai: 4, np: 1 });
  });
  it('refuses unknown types and truncated input with DecodeError', () => {
    expect(() => decodeIsup(hex('0100 ff'))).toThrow(DecodeError);
    expect(() => decodeIsup(hex('0100 0c 02'))).toThrow(DecodeError);
    expect(ISUP_MESSAGE_TYPES[0x01]!.name).toBe('IAM');
  });
});

function decodeFixture(file: string) {
  const d = new Ss7Dissector();
  return sctpUserMessages(fixturePath(file)).flatMap((m) => d.decode(m.payload, m.ppid, m));
}

describe.skipIf(!haveTshark)(`ISUP vs tshark on the generated fixture${tsharkNote}`, () => {
  it(`${ISUP_FIXTURE}: CIC, message type, numbers, cause and routing label per frame`, () => {
    const ours = decodeFixture(ISUP_FIXTURE);
    const rows = tsharkFields(fixturePath(ISUP_FIXTURE), 'isup', [
      'isup.cic',
      'isup.message_type',
      'isup.called',
      'isup.calling',
      'isup.cause_indicator',
      'm3ua.protocol_data_opc',
      'm3ua.protocol_data_dpc',
      'm3ua.protocol_data_sls',
    ]);
    expect(ours.map((m) => m.frame)).toEqual(rows.map((r) => r.frame));
    ours.forEach((m, i) => {
      const [cic, type, called, calling, cause, opc, dpc, sls] = rows[i]!.fields;
      expect(m.isup!.cic, `frame ${m.frame}`).toBe(Number(cic![0]));
      expect(m.isup!.type).toBe(Number(type![0]));
      expect(m.isup!.calledNumber ? [m.isup!.calledNumber.digits] : []).toEqual(called);
      expect(m.isup!.callingNumber ? [m.isup!.callingNumber.digits] : []).toEqual(calling);
      expect(m.isup!.cause ? [String(m.isup!.cause.value)] : []).toEqual(cause);
      expect([m.opc, m.dpc, m.sls]).toEqual([Number(opc![0]), Number(dpc![0]), Number(sls![0])]);
    });
  });
});

describe('ISUP on the generated fixture, against the generator', () => {
  const log = fixtureLog(ISUP_FIXTURE);
  const ours = decodeFixture(ISUP_FIXTURE);
  const net = fixtureNetwork();
  const mscPcs = new Set(net.mscs.map((n) => n.pc));
  const gmscPcs = new Set(net.gmscs.map((n) => n.pc));

  it(`${ISUP_FIXTURE}: every message is the one the generator wrote, on an MSC–gateway trunk`, () => {
    expect(ours.map((m) => m.isup!.name)).toEqual(log.map((p) => p.meta.message));
    for (const m of ours) {
      expect(m.si).toBe(5);
      expect(mscPcs.has(m.opc) ? gmscPcs.has(m.dpc) : gmscPcs.has(m.opc) && mscPcs.has(m.dpc), `frame ${m.frame}`).toBe(true);
    }
  });

  it(`${ISUP_FIXTURE}: each call keeps its circuit and its order; REL causes are normal clearing, busy and no answer`, () => {
    // A call is a circuit on a trunk (MSC, gateway) from IAM to RLC.
    const calls = new Map<string, string[]>();
    ours.forEach((m, i) => {
      const trunk = mscPcs.has(m.opc) ? `${m.opc}-${m.dpc}` : `${m.dpc}-${m.opc}`;
      const key = `${trunk}/${m.isup!.cic}/${log[i]!.meta.subscriber}`;
      if (m.isup!.name === 'IAM') expect(calls.get(key)?.at(-1) ?? 'RLC', `frame ${m.frame}: circuit reused while busy`).toBe('RLC');
      calls.set(key, [...(calls.get(key) ?? []), m.isup!.name]);
    });
    for (const [key, seq] of calls) expect(seq.join(' '), key).toMatch(/^(IAM( ACM( CPG( ANM)?)?)?( REL( RLC)?)? ?)+$/);
    const causes = ours.filter((m) => m.isup!.name === 'REL').map((m) => m.isup!.cause!.value);
    expect(new Set(causes)).toEqual(new Set([16, 17, 19]));
  });

  it(`${ISUP_FIXTURE}: an MSC's IAM carries the subscriber as calling party; a gateway's, a roaming number the HLR gave in a sendRoutingInfo result`, () => {
    const d = new Ss7Dissector();
    const roaming = new Set(
      sctpUserMessages(fixturePath(MAP_FIXTURE))
        .flatMap((u) => d.decode(u.payload, u.ppid, u))
        .flatMap((m) => (m.map?.params.roamingNumber ? [m.map.params.roamingNumber.digits] : [])),
    );
    let mo = 0;
    let mt = 0;
    ours.forEach((m, i) => {
      if (m.isup!.name !== 'IAM') return;
      if (mscPcs.has(m.opc)) {
        expect(m.isup!.callingNumber!.digits, `frame ${m.frame}`).toBe(fixtureSubscriber(log[i]!.meta.subscriber).msisdn);
        mo++;
      } else {
        expect(roaming, `frame ${m.frame}`).toContain(m.isup!.calledNumber!.digits);
        mt++;
      }
    });
    expect(mo).toBeGreaterThan(0);
    expect(mt).toBeGreaterThan(0);
  });
});
