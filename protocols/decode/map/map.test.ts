// Hand-built MAP parameters (encodings per the TS 29.002 ASN.1) for
// operations and variants the captures do not contain.
import { describe, expect, it } from 'vitest';
import { hex } from '../../../test/support/hex.ts';
import { e164, tbcdBytes, tlv } from '../ber/encode.ts';
import { DecodeError } from '../layer.ts';
import type { TcapComponent } from '../tcap/tcap.ts';
import { decodeMapComponent } from './map.ts';
import { MAP_OPERATIONS, mapOperationName } from './operations.ts';
import { MAP_ERRORS } from './errors.ts';

const comp = (kind: TcapComponent['kind'], opCode: number | undefined, param?: Buffer): TcapComponent => {
  const c: TcapComponent = { kind, last: true, invokeId: 1 };
  if (opCode !== undefined) c.opCode = opCode;
  if (param) c.param = param;
  return c;
};

describe('MAP tables', () => {
  it('names the presence operations as in TS 29.002', () => {
    expect(MAP_OPERATIONS[2]).toBe('updateLocation');
    expect(MAP_OPERATIONS[3]).toBe('cancelLocation');
    expect(MAP_OPERATIONS[67]).toBe('purgeMS');
    expect(MAP_OPERATIONS[22]).toBe('sendRoutingInfo');
    expect(MAP_OPERATIONS[44]).toBe('mt-ForwardSM');
    expect(MAP_OPERATIONS[46]).toBe('mo-ForwardSM');
    expect(MAP_OPERATIONS[71]).toBe('anyTimeInterrogation');
    expect(MAP_OPERATIONS[56]).toBe('sendAuthenticationInfo');
    expect(MAP_ERRORS[27]).toBe('absentSubscriber');
    expect(MAP_ERRORS[1]).toBe('unknownSubscriber');
  });
  it('uses the MAP v1/v2 name forwardSM for opcode 46 in v1/v2 dialogues only', () => {
    expect(mapOperationName(46, 2)).toBe('forwardSM');
    expect(mapOperationName(46, 3)).toBe('mo-ForwardSM');
    expect(mapOperationName(46)).toBe('mo-ForwardSM');
    expect(mapOperationName(2, 1)).toBe('updateLocation');
  });
});

describe('MAP parameters', () => {
  it('sendRoutingInfo v3 result: imsi [9], roaming number, vmsc-Address [2], subscriberInfo [7]', () => {
    const param = tlv(
      0xa3,
      tlv(0x89, tbcdBytes('262011234567890')),
      tlv(0x04, e164('491720000001')),
      tlv(0xa7, tlv(0xa1, tlv(0x0a, [1]))), // subscriberState netDetNotReachable imsiDetached
      tlv(0x82, e164('491770000099')),
    );
    const m = decodeMapComponent(comp('result', 22, param), 3);
    expect(m.operation).toBe('sendRoutingInfo');
    expect(m.params.imsi).toBe('262011234567890');
    expect(m.params.roamingNumber!.digits).toBe('491720000001');
    expect(m.params.mscNumber!.digits).toBe('491770000099');
    expect(m.params.subscriberState).toBe('netDetNotReachable');
    expect(m.params.notReachableReason).toBe('imsiDetached');
  });

  it('sendRoutingInfo v2 result: untagged imsi then roaming number', () => {
    const param = tlv(0x30, tlv(0x04, tbcdBytes('26201123456789')), tlv(0x04, e164('4917200')));
    const m = decodeMapComponent(comp('result', 22, param), 2);
    expect(m.params.imsi).toBe('26201123456789');
    expect(m.params.roamingNumber!.digits).toBe('4917200');
  });

  it('anyTimeInterrogation result with LAI and camelBusy; notProvidedFromVLR', () => {
    const loc = tlv(0xa0, tlv(0xa3, tlv(0x81, hex('62f220 0102'))));
    const m = decodeMapComponent(comp('result', 71, tlv(0x30, tlv(0x30, loc, tlv(0xa1, tlv(0x81, []))))));
    expect(m.params.location!.lai).toEqual({ mcc: '262', mnc: '02', lac: 0x0102 });
    expect(m.params.subscriberState).toBe('camelBusy');
    const n = decodeMapComponent(comp('result', 71, tlv(0x30, tlv(0x30, tlv(0xa1, tlv(0x82, []))))));
    expect(n.params.subscriberState).toBe('notProvidedFromVLR');
  });

  it('cancelLocation v3 ([3] SEQUENCE with imsi-WithLMSI) and purgeMS v3', () => {
    const cl = tlv(0xa3, tlv(0x30, tlv(0x04, tbcdBytes('001010000000001')), tlv(0x04, hex('01020304'))));
    const m = decodeMapComponent(comp('invoke', 3, cl));
    expect(m.params.imsi).toBe('001010000000001');
    expect(m.params.lmsi).toBe('01020304');
    const pm = tlv(0xa3, tlv(0x04, tbcdBytes('001010000000002')), tlv(0x80, e164('4411')));
    const p = decodeMapComponent(comp('invoke', 67, pm));
    expect(p.operation).toBe('purgeMS');
    expect(p.params.imsi).toBe('001010000000002');
    expect(p.params.vlrNumber!.digits).toBe('4411');
  });

  it('sendRoutingInfo invoke msisdn [0] with nature/plan; mt-ForwardSM with SM-RP-DA imsi and SM-RP-OA service centre', () => {
    const sri = decodeMapComponent(comp('invoke', 22, tlv(0x30, tlv(0x80, hex('a1 2143')))));
    expect(sri.params.msisdn).toEqual({ digits: '1234', nai: 2, np: 1 });
    const mt = decodeMapComponent(comp('invoke', 44, tlv(0x30, tlv(0x80, tbcdBytes('001019999999999')), tlv(0x84, e164('4479')), tlv(0x04, hex('0400')))));
    expect(mt.operation).toBe('mt-ForwardSM');
    expect(mt.params.imsi).toBe('001019999999999');
    expect(mt.params.serviceCentre!.digits).toBe('4479');
  });

  it("mt-ForwardSM's SMS-DELIVER TP-OA is the SMS originator; alphanumeric originators and SMS-SUBMIT name none", () => {
    const forward = (tpdu: string) =>
      decodeMapComponent(comp('invoke', 44, tlv(0x30, tlv(0x80, tbcdBytes('001019999999999')), tlv(0x84, e164('4479')), tlv(0x04, hex(tpdu))))).params;
    expect(forward('04 0b 91 44 97 21 43 65 f7 00 00').smsOriginator).toEqual({ digits: '44791234567', nai: 1, np: 1 });
    expect(forward('04 05 d0 c8 34 08').smsOriginator).toBeUndefined(); // alphanumeric "HI"
    expect(forward('01 00 0b 91 44 97 21 43 65 f7').smsOriginator).toBeUndefined(); // SMS-SUBMIT
    expect(forward('04 0b 91 44').smsOriginator).toBeUndefined(); // cut short
  });

  it('a result without opCode or parameter still yields a component; errors are named', () => {
    expect(decodeMapComponent({ kind: 'result', last: true, invokeId: 5 })).toEqual({ kind: 'result', invokeId: 5, last: true, params: {} });
    const e = decodeMapComponent({ kind: 'error', last: true, invokeId: 2, errorCode: 27 });
    expect(e.error).toBe('absentSubscriber');
  });

  it('absentSubscriber and absentSubscriberSM error parameters', () => {
    const e = decodeMapComponent({ kind: 'error', last: true, invokeId: 1, errorCode: 27, param: tlv(0x30, tlv(0x80, [0])) });
    expect(e.params.absentSubscriberReason).toBe('imsiDetach');
    const sm = decodeMapComponent({ kind: 'error', last: true, invokeId: 1, errorCode: 6, param: tlv(0x30, tlv(0x02, [1])) });
    expect(sm.params.absentSubscriberDiagnosticSM).toBe(1);
  });

  it('throws DecodeError on a malformed IMSI', () => {
    expect(() => decodeMapComponent(comp('invoke', 2, tlv(0x30, tlv(0x04, [0x21]))))).toThrow(DecodeError);
  });
});
