// GSM MAP (3GPP TS 29.002) operations the generator emits: operation codes,
// application contexts, and the BER encoding of each argument and result
// (module MAP-*-DataTypes, IMPLICIT TAGS). One table row per operation.
import type { BerWriter } from '../../protocols/decode/ber/encode.ts';
import { smsDeliver, smsSubmit } from './sms.ts';

export type MapOperation =
  | 'updateLocation'
  | 'cancelLocation'
  | 'purgeMS'
  | 'insertSubscriberData'
  | 'sendRoutingInfo'
  | 'sendRoutingInfoForSM'
  | 'mo-ForwardSM'
  | 'mt-ForwardSM'
  | 'anyTimeInterrogation'
  | 'updateGprsLocation'
  | 'sendAuthenticationInfo';

/** Values an argument or result draws on; unused ones are ignored. */
export interface MapValues {
  imsi: string;
  msisdn: string;
  mscNumber?: string;
  vlrNumber?: string;
  hlrNumber?: string;
  sgsnNumber?: string;
  /** IPv4 of the SGSN as a number (GSN-Address). */
  sgsnIp?: number;
  roamingNumber?: string;
  gmscAddress?: string;
  smscAddress?: string;
  scfAddress?: string;
  /** Cell global id: MCC/MNC digits and LAC/CI. */
  mcc?: string;
  mnc?: string;
  lac?: number;
  ci?: number;
  /** ATI: subscriber attached (assumedIdle + location) or not (netDetNotReachable). */
  reachable?: boolean;
  /** SMS text and the other party's digits. */
  text?: string;
  peer?: string;
  epochSeconds?: number;
  /** Seed for authentication vectors (RAND/SRES/Kc). */
  vectorSeed?: number;
}

interface OperationSpec {
  opcode: number;
  /** Application context (0.4.0.0.1.0.<ac>.<version>). */
  ac: number;
  version: number;
  arg(w: BerWriter, v: MapValues): void;
  /** Result parameter, or undefined to send ReturnResultLast without one. */
  res?(w: BerWriter, v: MapValues): void;
}

const need = (s: string | undefined, what: string): string => {
  if (s === undefined) throw new Error(`MAP: ${what} missing`);
  return s;
};

/** MCC+MNC as 3GPP TS 24.008 PLMN identity octets, then LAC and CI. */
function cellGlobalId(w: BerWriter, v: MapValues): void {
  const mcc = v.mcc ?? '001';
  const mnc = v.mnc ?? '01';
  const d = (s: string, i: number): number => s.charCodeAt(i) - 48;
  w.u8(0x80);
  w.u8(7);
  w.u8((d(mcc, 1) << 4) | d(mcc, 0));
  w.u8(((mnc.length === 3 ? d(mnc, 2) : 0xf) << 4) | d(mcc, 2));
  w.u8((d(mnc, 1) << 4) | d(mnc, 0));
  w.u16(v.lac ?? 1);
  w.u16(v.ci ?? 1);
}

/** Deterministic filler octets for RAND/SRES/Kc (xorshift32). */
function pseudoOctets(w: BerWriter, tag: number, n: number, seed: number): number {
  w.u8(tag);
  w.u8(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w.u8(x);
  }
  return x;
}

export const MAP_OPERATIONS: Record<MapOperation, OperationSpec> = {
  updateLocation: {
    opcode: 2,
    ac: 1, // networkLocUpContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.tbcdString(0x04, v.imsi);
      w.address(0x81, need(v.mscNumber, 'msc-Number'));
      w.address(0x04, need(v.vlrNumber, 'vlr-Number'));
      w.end();
    },
    res(w, v) {
      w.begin(0x30);
      w.address(0x04, need(v.hlrNumber, 'hlr-Number'));
      w.end();
    },
  },
  cancelLocation: {
    opcode: 3,
    ac: 2, // locationCancellationContext
    version: 3,
    arg(w, v) {
      w.begin(0xa3); // CancelLocationArg ::= [3] SEQUENCE
      w.tbcdString(0x04, v.imsi); // identity: imsi
      w.int(0x0a, 0); // cancellationType updateProcedure
      w.end();
    },
    res(w) {
      w.begin(0x30);
      w.end();
    },
  },
  purgeMS: {
    opcode: 67,
    ac: 27, // msPurgingContext
    version: 3,
    arg(w, v) {
      w.begin(0xa3); // PurgeMS-Arg ::= [3] SEQUENCE
      w.tbcdString(0x04, v.imsi);
      if (v.vlrNumber) w.address(0x80, v.vlrNumber);
      if (v.sgsnNumber) w.address(0x81, v.sgsnNumber);
      w.end();
    },
    res(w) {
      w.begin(0x30);
      w.end();
    },
  },
  insertSubscriberData: {
    opcode: 7,
    ac: 16, // subscriberDataMngtContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.tbcdString(0x80, v.imsi);
      w.address(0x81, v.msisdn);
      w.octets(0x82, CATEGORY_ORDINARY);
      w.int(0x83, 0); // subscriberStatus serviceGranted
      w.end();
    },
    res(w) {
      w.begin(0x30);
      w.end();
    },
  },
  sendRoutingInfo: {
    opcode: 22,
    ac: 5, // locationInfoRetrievalContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.address(0x80, v.msisdn);
      w.int(0x83, 0); // interrogationType basicCall
      w.address(0x86, need(v.gmscAddress, 'gmsc-Address'));
      w.end();
    },
    res(w, v) {
      w.begin(0xa3); // SendRoutingInfoRes ::= [3] SEQUENCE
      w.tbcdString(0x89, v.imsi);
      w.address(0x04, need(v.roamingNumber, 'roamingNumber')); // extendedRoutingInfo: routingInfo: roamingNumber
      if (v.mscNumber) w.address(0x82, v.mscNumber); // vmsc-Address
      w.end();
    },
  },
  sendRoutingInfoForSM: {
    opcode: 45,
    ac: 20, // shortMsgGatewayContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.address(0x80, v.msisdn);
      w.u8(0x81); // sm-RP-PRI TRUE
      w.u8(1);
      w.u8(0xff);
      w.address(0x82, need(v.smscAddress, 'serviceCentreAddress'));
      w.end();
    },
    res(w, v) {
      w.begin(0x30);
      w.tbcdString(0x04, v.imsi);
      w.begin(0xa0); // locationInfoWithLMSI
      w.address(0x81, need(v.mscNumber, 'networkNode-Number'));
      w.end();
      w.end();
    },
  },
  'mo-ForwardSM': {
    opcode: 46,
    ac: 21, // shortMsgMO-RelayContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.address(0x84, need(v.smscAddress, 'sm-RP-DA serviceCentreAddressDA'));
      w.address(0x82, v.msisdn); // sm-RP-OA msisdn
      w.begin(0x04); // sm-RP-UI
      smsSubmit(w, v.vectorSeed ?? 0, need(v.peer, 'destination'), v.text ?? '');
      w.end();
      w.end();
    },
    res(w) {
      w.begin(0x30);
      w.end();
    },
  },
  'mt-ForwardSM': {
    opcode: 44,
    ac: 25, // shortMsgMT-RelayContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.tbcdString(0x80, v.imsi); // sm-RP-DA imsi
      w.address(0x84, need(v.smscAddress, 'sm-RP-OA serviceCentreAddressOA'));
      w.begin(0x04);
      smsDeliver(w, need(v.peer, 'originator'), v.text ?? '', v.epochSeconds ?? 0);
      w.end();
      w.end();
    },
    res(w) {
      w.begin(0x30);
      w.end();
    },
  },
  anyTimeInterrogation: {
    opcode: 71,
    ac: 29, // anyTimeInfoEnquiryContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.begin(0xa0); // subscriberIdentity
      w.address(0x81, v.msisdn);
      w.end();
      w.begin(0xa1); // requestedInfo
      w.null(0x80); // locationInformation
      w.null(0x81); // subscriberState
      w.end();
      w.address(0x83, need(v.scfAddress, 'gsmSCF-Address'));
      w.end();
    },
    res(w, v) {
      w.begin(0x30);
      w.begin(0x30); // subscriberInfo
      if (v.reachable) {
        w.begin(0xa0); // locationInformation
        w.int(0x02, 0); // ageOfLocationInformation (minutes)
        w.address(0x81, need(v.vlrNumber, 'vlr-number'));
        w.begin(0xa3); // cellGlobalIdOrServiceAreaIdOrLAI (CHOICE, explicit)
        cellGlobalId(w, v);
        w.end();
        w.end();
        w.begin(0xa1); // subscriberState: assumedIdle
        w.null(0x80);
        w.end();
      } else {
        w.begin(0xa1); // subscriberState: netDetNotReachable imsiDetached(1)
        w.int(0x0a, 1);
        w.end();
      }
      w.end();
      w.end();
    },
  },
  updateGprsLocation: {
    opcode: 23,
    ac: 32, // gprsLocationUpdateContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.tbcdString(0x04, v.imsi);
      w.address(0x04, need(v.sgsnNumber, 'sgsn-Number'));
      w.u8(0x04); // sgsn-Address GSN-Address: type IPv4 (0), length 4
      w.u8(5);
      w.u8(0x04);
      w.u32(v.sgsnIp ?? 0);
      w.end();
    },
    res(w, v) {
      w.begin(0x30);
      w.address(0x04, need(v.hlrNumber, 'hlr-Number'));
      w.end();
    },
  },
  sendAuthenticationInfo: {
    opcode: 56,
    ac: 14, // infoRetrievalContext
    version: 3,
    arg(w, v) {
      w.begin(0x30);
      w.tbcdString(0x80, v.imsi);
      w.int(0x02, 1); // numberOfRequestedVectors
      w.end();
    },
    res(w, v) {
      w.begin(0xa3); // SendAuthenticationInfoRes ::= [3] SEQUENCE
      w.begin(0xa0); // tripletList
      w.begin(0x30);
      const s = pseudoOctets(w, 0x04, 16, v.vectorSeed ?? 1);
      const t = pseudoOctets(w, 0x04, 4, s);
      pseudoOctets(w, 0x04, 8, t);
      w.end();
      w.end();
      w.end();
    },
  },
};

/** Category ordinary subscriber (Q.763 §3.11). */
const CATEGORY_ORDINARY = Buffer.from([0x0a]);

/** MAP error codes used (29.002 §17.6.6). */
export const MAP_ERRORS = {
  unknownSubscriber: 1,
  absentSubscriberSM: 6,
  absentSubscriber: 27,
} as const;
export type MapError = keyof typeof MAP_ERRORS;

/** Operation name by local opcode. */
export const MAP_OPCODE_NAMES: Record<number, MapOperation> = Object.fromEntries(
  (Object.keys(MAP_OPERATIONS) as MapOperation[]).map((op) => [MAP_OPERATIONS[op].opcode, op]),
);
